import { randomUUID } from 'node:crypto';
import { ticketGlobalId } from '../src/graphql/global-id.js';
import { classify } from './http-client.js';
import type { ServerProcess } from './processes.js';

/** Turns the seats one purchase asks for into its request body (one seat, or a group). */
export type BodyOf = (ticketGlobalIds: readonly string[]) => string;

const CONCURRENCY = 32;

/**
 * Where a server warms up: its seat (or, for multi-seat, its group of seats) of a warm-up event, and
 * the event whose missing tickets it asks for.
 */
export interface WarmUpTarget {
  server: ServerProcess;
  seatGlobalIds: string[];
  /** Null for the floor server, which has no events. */
  eventId: string | null;
}

async function drive(
  target: WarmUpTarget,
  bodies: string[],
  authorizations: string[],
): Promise<{ wins: number; other: number }> {
  let next = 0;
  let wins = 0;
  let other = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next] ?? '';
      const authorization = authorizations[next++ % authorizations.length] ?? '';
      const response = await fetch(target.server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body,
      });
      const outcome = classify(response.status, await response.text());
      if (outcome.kind === 'win') wins++;
      else if (outcome.kind === 'error') other++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { wins, other };
}

/**
 * Warms each server as a server that has been up before the sale opens is warm (V8 needs thousands
 * of requests, not hundreds, before throughput settles): its own seat (multi-seat: group of seats,
 * through the same mutation as the load) of a warm-up event, bought once and then refused thousands
 * of times, and tickets of the warm-up event that do not exist (lock, sale transaction, refusal), so
 * the sale's seats are untouched. Each instance's cost is the same, and is measured on a calibration
 * instance and subtracted from the Postgres counts.
 */
export async function warmUp(
  targets: WarmUpTarget[],
  authorizations: string[],
  purchases: number,
  bodyOf: BodyOf,
): Promise<void> {
  // Three quarters on the warm-up seat (one sale, then the hot-seat refusal path), a quarter on
  // tickets that do not exist (lock, sale transaction, refusal: the path through Postgres).
  const onSeat = Math.max(1, Math.round(purchases * 0.75));
  const onMissing = Math.max(1, purchases - onSeat);
  await Promise.all(
    targets.map(async (target) => {
      const seat = await drive(
        target,
        Array.from({ length: onSeat }, () => bodyOf(target.seatGlobalIds)),
        authorizations,
      );
      const missingGroup = () =>
        target.seatGlobalIds.map(() => ticketGlobalId({ id: randomUUID(), eventId: target.eventId ?? randomUUID() }));
      const missing = await drive(
        target,
        Array.from({ length: onMissing }, () => bodyOf(missingGroup())),
        authorizations,
      );
      if (seat.wins !== 1 || (target.eventId !== null && missing.wins !== 0) || seat.other + missing.other > 0) {
        throw new Error(
          `warm-up on ${target.server.url}: ${seat.wins} sales of its seat (expected 1), ${missing.wins} of missing tickets, ${seat.other + missing.other} errors`,
        );
      }
    }),
  );
}
