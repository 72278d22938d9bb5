import type { Pool } from 'undici';
import type { HoldFigures } from '../contender-result.js';
import { runLoad } from '../generator.js';
import { openClients } from '../http-client.js';
import { RandomPool } from '../random-pool.js';
import { sleep } from '../services.js';
import { statementsBetween } from '../statement-counter.js';
import {
  BLOCKING_HOLDS,
  drawDistinct,
  GrowingTarget,
  holdBody,
  MOST_SEATS,
  post,
  type SeenHold,
} from './hold-checkout-buyers.js';
import { bump, holdStatements, round, shortTexts } from './hold-checkout-report.js';
import type { LoadContext, Venue } from './scenario.js';

/** What the refusal window needs of its run: the venue, the servers' pools, a tag for keys, the hold length. */
export interface RefusalWindow {
  venue: Venue;
  pools: readonly Pool[];
  tag: string;
  holdMs: number;
}

/** The global ids of venue seats by index. */
export function globalIdsOf(venue: Venue, seats: readonly number[]): string[] {
  return seats.map((seat) => venue.ticketGlobalIds[seat] ?? '');
}

/**
 * The refusal-only window: BLOCKING_HOLDS buyers hold the venue's last seats (spread over the
 * servers, so each has the sale's settings cached as it would mid-sale), the servers idle for a
 * window (what they send with no request in flight), then other buyers ask for those seats at the
 * load's rate for a window of the same length: every answer a refusal. A statement of the refusal
 * window whose text the idle window did not send is one the refusals may have caused. Both windows
 * end before the blocking holds expire, which then expire during the load like any walked-away hold.
 */
export async function measureRefusalCost(
  context: LoadContext,
  run: RefusalWindow,
  block: (hold: { id: string; expiresAt: string }, seats: number[], authorization: string) => SeenHold,
): Promise<HoldFigures['refusalCost']> {
  const { statements, authorizations, options, urls } = context;
  const { pools } = run;
  if (!statements || pools.length === 0) return null;
  const seats = run.venue.ticketGlobalIds.length;
  const blocked = Array.from({ length: BLOCKING_HOLDS * MOST_SEATS }, (_, i) => seats - 1 - i);
  let firstExpiry = Number.POSITIVE_INFINITY;
  for (let i = 0; i < BLOCKING_HOLDS; i++) {
    const own = blocked.slice(i * MOST_SEATS, (i + 1) * MOST_SEATS);
    const authorization = authorizations[authorizations.length - 1 - i] ?? '';
    const body = holdBody(globalIdsOf(run.venue, own), `block-${run.tag}-${i}`);
    const answer = await post(pools[i % pools.length] as Pool, authorization, body, 'holdSeats');
    const hold = answer.result?.hold as { id: string; expiresAt: string } | undefined;
    if (answer.result?.__typename !== 'HoldSeatsSuccess' || !hold)
      throw new Error(`hold-checkout: a blocking hold failed: ${answer.error ?? JSON.stringify(answer.result)}`);
    firstExpiry = Math.min(firstExpiry, block(hold, own, authorization).expiresAtMs);
  }
  const windowMs = Math.max(250, Math.min(2000, Math.floor((run.holdMs - 1500) / 2)));
  await sleep(100); // the blocking holds' own announcements
  const idleFrom = await statements.snapshot();
  await sleep(windowMs);
  const windowFrom = await statements.snapshot();
  const outcomes: Record<string, number> = {};
  const blockedPool = new RandomPool(blocked.length);
  const refuser = new GrowingTarget(
    () => drawDistinct(blockedPool, 1 + Math.floor(Math.random() * MOST_SEATS)).map((k) => blocked[k] ?? 0),
    (own, index) => holdBody(globalIdsOf(run.venue, own), `refused-${run.tag}-${index}`),
    (_seats, outcome) => bump(outcomes, outcome.kind === 'reject' ? outcome.reason : outcome.kind),
  );
  const clients = openClients([...urls], options.shape.kind === 'open' ? options.httpConnections : 1);
  let load: Awaited<ReturnType<typeof runLoad>>;
  try {
    load = await runLoad({
      clients,
      target: refuser,
      authorizations: authorizations.slice(0, authorizations.length - BLOCKING_HOLDS),
      shape: options.shape,
      durationMs: windowMs,
      maxInFlight: options.maxInFlight,
    });
  } finally {
    await clients.close();
  }
  const windowTo = await statements.snapshot();
  const clean = Date.now() < firstExpiry;
  for (const [error, n] of Object.entries(load.errors)) bump(outcomes, error, n);
  const idle = statementsBetween(idleFrom, windowFrom);
  const window = statementsBetween(windowFrom, windowTo);
  const onlyInWindow = Object.entries(window.byText).filter(([text]) => !(text in idle.byText));
  const unexplained = onlyInWindow.reduce((sum, [, n]) => sum + n, 0);
  const refusals = Object.values(load.rejects).reduce((a, b) => a + b, 0);
  return {
    refusals,
    outcomes,
    window: shortTexts(window),
    idle: shortTexts(idle),
    unexplained,
    onlyInWindow: shortTexts({ ms: 0, total: unexplained, byText: Object.fromEntries(onlyInWindow) }).byText,
    perRefusal: round(unexplained / Math.max(1, refusals), 3),
    holdStatements: holdStatements(window),
    clean,
  };
}
