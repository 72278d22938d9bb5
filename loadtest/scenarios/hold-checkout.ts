import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type postgres from 'postgres';
import type { Pool } from 'undici';
import { parseDuration } from '../cli-values.js';
import type { HoldFigures } from '../contender-result.js';
import { runLoad } from '../generator.js';
import { type Clients, openClients } from '../http-client.js';
import type { InvariantResult } from '../invariants.js';
import { LatencyRecorder } from '../latency.js';
import { AVAILABILITY_SUBSCRIPTION, openSubscriber } from '../live.js';
import { RandomPool } from '../random-pool.js';
import { sleep } from '../services.js';
import { type StatementSnapshot, statementsBetween } from '../statement-counter.js';
import type { Outcome } from '../targets.js';
import {
  BLOCKING_HOLDS,
  CHECKOUT_CONNECTIONS,
  checkoutBody,
  drawDistinct,
  GrowingTarget,
  type Heard,
  holdBody,
  MOST_SEATS,
  post,
  SeatMap,
  type SeenHold,
  type Settings,
  uuidOf,
} from './hold-checkout-buyers.js';
import { holdChecks } from './hold-checkout-checks.js';
import { bump, consoleLines, holdStatements, judge, reportLines, round, shortTexts } from './hold-checkout-report.js';
import { type LoadContext, type SaleRun, type Scenario, SEATS_OPTION, type Venue, venueSeats } from './scenario.js';

/** One contender's hold-checkout run: buyers, checkouts, the subscriber, the refusal window, the checks. */
class HoldCheckoutRun implements SaleRun {
  readonly target: GrowingTarget;
  private readonly map: SeatMap;
  private readonly seatOf: Map<string, number>;
  private readonly tag = randomUUID().slice(0, 8);
  private readonly holdMs: number;

  private context: LoadContext | null = null;
  private pools: Clients | null = null;
  private closeSubscriber: (() => void) | null = null;
  private readonly heard: Heard[][] = [];
  private messages = 0;
  private readonly subscriberFailures: Record<string, number> = {};

  /** Holds buyers saw made, by hold uuid (the blocking ones too). */
  private readonly holds = new Map<string, SeenHold>();
  private made = 0;
  private readonly bySeats: Record<string, number> = {};
  private walkedAway = 0;
  private firstAsk = 0;
  private lastHoldAnswer = 0;

  private readonly checkoutLatency = new LatencyRecorder();
  private readonly checkoutOutcomes: Record<string, number> = {};
  private checkoutsSent = 0;
  private checkoutsPending = 0;
  private checkoutErrors = 0;
  private firstCheckoutSent = 0;
  private lastCheckoutAnswer = 0;
  /** Orders buyers saw made, as hold uuid → order uuid, and their seats. */
  private readonly orders = new Map<string, string>();
  private seatsBought = 0;

  private refusalCost: HoldFigures['refusalCost'] = null;
  private loadFrom: StatementSnapshot | null = null;
  private statements: HoldFigures['statements'] = null;
  private expiryLag: HoldFigures['expiryLag'] | null = null;

  constructor(
    private readonly venue: Venue,
    private readonly settings: Settings,
  ) {
    this.map = new SeatMap(venue.ticketGlobalIds.length);
    this.seatOf = new Map(venue.ticketGlobalIds.map((id, i) => [id, i]));
    this.holdMs = Math.round(settings.holdSeconds * 1000);
    this.target = new GrowingTarget(
      () => this.pickSeats(),
      (seats, index) => holdBody(this.globalIds(seats), `hold-${this.tag}-${index}`),
      (seats, outcome, authorization) => this.answered(seats, outcome, authorization),
    );
  }

  private globalIds(seats: readonly number[]): string[] {
    return seats.map((seat) => this.venue.ticketGlobalIds[seat] ?? '');
  }

  /**
   * 1 to 4 seats among those the buyer believes free; when none is, among those not seen sold (a
   * refusal: someone holds them); none left unsold ends the load.
   */
  private pickSeats(): number[] | null {
    if (this.map.unsold.size === 0) return null;
    this.firstAsk ||= performance.now();
    const want = 1 + Math.floor(Math.random() * MOST_SEATS);
    return drawDistinct(this.map.free.size > 0 ? this.map.free : this.map.unsold, want);
  }

  private answered(seats: number[], outcome: Outcome, authorization: string): void {
    this.lastHoldAnswer = performance.now();
    if (outcome.kind === 'win' && outcome.hold) {
      this.made++;
      bump(this.bySeats, String(seats.length));
      const hold = this.remember(outcome.hold, seats, authorization);
      if (Math.random() < this.settings.checkoutShare) this.scheduleCheckout(hold);
      else this.walkedAway++;
    } else if (outcome.kind === 'reject') {
      for (const seat of outcome.unavailable ?? []) {
        const index = this.seatOf.get(seat.ticketId);
        if (index === undefined) continue;
        if (seat.reason === 'SOLD') this.map.sold(index);
        else if (seat.reason === 'HELD') this.map.taken(index);
      }
    }
  }

  private remember(answer: { id: string; expiresAt: string }, seats: number[], authorization: string): SeenHold {
    const hold = { globalId: answer.id, seats, expiresAtMs: Date.parse(answer.expiresAt), authorization };
    this.holds.set(uuidOf(answer.id, 'Hold'), hold);
    for (const seat of seats) this.map.taken(seat);
    return hold;
  }

  private scheduleCheckout(hold: SeenHold): void {
    this.checkoutsPending++;
    const due = performance.now() + this.settings.thinkMs;
    setTimeout(() => {
      this.checkout(hold, due).then(
        () => this.checkoutsPending--,
        () => this.checkoutsPending--,
      );
    }, this.settings.thinkMs);
  }

  private async checkout(hold: SeenHold, due: number): Promise<void> {
    const pools = this.pools?.pools ?? [];
    const pool = pools[this.checkoutsSent % Math.max(1, pools.length)];
    const n = this.checkoutsSent++;
    this.firstCheckoutSent ||= performance.now();
    if (!pool) return void bump(this.checkoutOutcomes, 'no pool');
    const answer = await post(
      pool,
      hold.authorization,
      checkoutBody(hold.globalId, `pay-${this.tag}-${n}`),
      'checkout',
    );
    this.lastCheckoutAnswer = performance.now();
    this.checkoutLatency.record(this.lastCheckoutAnswer - due);
    if (answer.error) {
      this.checkoutErrors++;
      return void bump(this.checkoutOutcomes, answer.error);
    }
    const typename = answer.result?.__typename ?? 'empty';
    bump(this.checkoutOutcomes, typename);
    const order = answer.result?.order as { id?: string } | undefined;
    if (typename === 'CheckoutSuccess' && order?.id) {
      this.orders.set(uuidOf(hold.globalId, 'Hold'), uuidOf(order.id, 'Order'));
      this.seatsBought += hold.seats.length;
      for (const seat of hold.seats) this.map.sold(seat);
    }
  }

  /** The subscriber's messages, parsed in full (one subscriber): the seat map, and when each change arrived. */
  private hear(raw: Buffer): void {
    const arrival = Date.now();
    this.messages++;
    const message = JSON.parse(raw.toString('utf8')) as {
      payload?: {
        data?: {
          ticketAvailability?: {
            changedTickets?: Array<{ id: string; status: string; version: number; statusChangedAt: string | null }>;
          };
        };
      };
    };
    for (const ticket of message.payload?.data?.ticketAvailability?.changedTickets ?? []) {
      const seat = this.seatOf.get(ticket.id);
      if (seat === undefined) continue;
      this.map.heard(seat, ticket.status, ticket.version);
      const changedAt = ticket.statusChangedAt ? Date.parse(ticket.statusChangedAt) : 0;
      let log = this.heard[seat];
      if (!log) {
        log = [];
        this.heard[seat] = log;
      }
      log.push({ status: ticket.status, changedAt, arrival });
    }
  }

  private async subscribe(url: string, eventGlobalId: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('hold-checkout: the subscriber got no first message in 10 s')),
        10_000,
      );
      this.closeSubscriber = openSubscriber(
        url.replace(/^http/, 'ws'),
        AVAILABILITY_SUBSCRIPTION,
        { id: eventGlobalId },
        {
          first: (result) => {
            clearTimeout(timer);
            if (result.data?.ticketAvailability) resolve();
            else reject(new Error(`hold-checkout: the subscription failed: ${JSON.stringify(result.errors)}`));
          },
          next: (raw) => this.hear(raw),
          fail: (reason) => {
            clearTimeout(timer);
            bump(this.subscriberFailures, reason);
            reject(new Error(`hold-checkout: the subscriber failed: ${reason}`));
          },
        },
      );
    });
  }

  async begin(context: LoadContext): Promise<void> {
    this.context = context;
    const { urls, eventGlobalId, authorizations, statements } = context;
    if (authorizations.length < 2 * BLOCKING_HOLDS)
      throw new Error(`hold-checkout needs at least ${2 * BLOCKING_HOLDS} buyers (--buyers)`);
    this.pools = openClients([...urls], CHECKOUT_CONNECTIONS);
    await this.subscribe(urls[0] ?? '', eventGlobalId);
    if (statements) await this.measureRefusals(context);
    this.loadFrom = (await statements?.snapshot()) ?? null;
  }

  /**
   * The refusal-only window: BLOCKING_HOLDS buyers hold the venue's last seats (spread over the
   * servers, so each has the sale's settings cached as it would mid-sale), the servers idle for a
   * window (what they send with no request in flight), then other buyers ask for those seats at the
   * load's rate for a window of the same length: every answer a refusal. A statement of the refusal
   * window whose text the idle window did not send is one the refusals may have caused. Both windows
   * end before the blocking holds expire, which then expire during the load like any walked-away hold.
   */
  private async measureRefusals(context: LoadContext): Promise<void> {
    const { statements, authorizations, options, urls } = context;
    const pools = this.pools?.pools ?? [];
    if (!statements || pools.length === 0) return;
    const seats = this.venue.ticketGlobalIds.length;
    const blocked = Array.from({ length: BLOCKING_HOLDS * MOST_SEATS }, (_, i) => seats - 1 - i);
    let firstExpiry = Number.POSITIVE_INFINITY;
    for (let i = 0; i < BLOCKING_HOLDS; i++) {
      const own = blocked.slice(i * MOST_SEATS, (i + 1) * MOST_SEATS);
      const authorization = authorizations[authorizations.length - 1 - i] ?? '';
      const body = holdBody(this.globalIds(own), `block-${this.tag}-${i}`);
      const answer = await post(pools[i % pools.length] as Pool, authorization, body, 'holdSeats');
      const hold = answer.result?.hold as { id: string; expiresAt: string } | undefined;
      if (answer.result?.__typename !== 'HoldSeatsSuccess' || !hold)
        throw new Error(`hold-checkout: a blocking hold failed: ${answer.error ?? JSON.stringify(answer.result)}`);
      firstExpiry = Math.min(firstExpiry, this.remember(hold, own, authorization).expiresAtMs);
      this.walkedAway++;
    }
    const windowMs = Math.max(250, Math.min(2000, Math.floor((this.holdMs - 1500) / 2)));
    await sleep(100); // the blocking holds' own announcements
    const idleFrom = await statements.snapshot();
    await sleep(windowMs);
    const windowFrom = await statements.snapshot();
    const outcomes: Record<string, number> = {};
    const blockedPool = new RandomPool(blocked.length);
    const refuser = new GrowingTarget(
      () => drawDistinct(blockedPool, 1 + Math.floor(Math.random() * MOST_SEATS)).map((k) => blocked[k] ?? 0),
      (own, index) => holdBody(this.globalIds(own), `refused-${this.tag}-${index}`),
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
    this.refusalCost = {
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

  async end(): Promise<void> {
    const loadEnded = Date.now();
    // The last checkouts: due a think time after the last hold's answer.
    const deadline = performance.now() + this.settings.thinkMs + 40_000;
    while (this.checkoutsPending > 0 && performance.now() < deadline) await sleep(20);
    // Every hold made during the load has expired, and a second more has passed (see the checks).
    const until = loadEnded + this.holdMs + 1000;
    if (!this.context?.options.quiet)
      console.error(`hold-checkout: waiting ${round((until - Date.now()) / 1000)} s for the last holds to expire`);
    while (Date.now() < until) await sleep(Math.min(200, until - Date.now()));
    const statements = this.context?.statements;
    if (statements && this.loadFrom) {
      const to = await statements.snapshot();
      const delta = statementsBetween(this.loadFrom, to);
      this.statements = {
        total: delta.total,
        holdStatements: holdStatements(delta),
        byText: shortTexts(delta).byText,
        unreadConnections: to.unread,
      };
    }
    this.closeSubscriber?.();
    this.closeSubscriber = null;
    await this.pools?.close();
    this.pools = null;
  }

  bought() {
    return { orders: this.orders.size, seats: this.seatsBought, unanswered: this.checkoutErrors };
  }

  /** The holds' invariants in SQL (after the common ones), and the expiry lag they need. */
  readonly checks = (sql: postgres.Sql, eventId: string) => this.check(sql, eventId);

  private async check(sql: postgres.Sql, eventId: string): Promise<InvariantResult[]> {
    const seen = {
      holds: this.holds,
      orders: this.orders,
      ticketIds: this.venue.ticketIds,
      heard: this.heard,
      holdMs: this.holdMs,
    };
    const { results, expiryLag } = await holdChecks(sql, eventId, seen);
    this.expiryLag = expiryLag;
    return results;
  }

  figures({ sold }: { sold: number; orders: number }) {
    const empty = new LatencyRecorder().summary();
    const checkoutSeconds = Math.max(0.001, (this.lastCheckoutAnswer - this.firstCheckoutSent) / 1000);
    const holdSeconds = Math.max(0.001, (this.lastHoldAnswer - this.firstAsk) / 1000);
    const holds: HoldFigures = {
      holdSeconds: this.settings.holdSeconds,
      thinkMs: this.settings.thinkMs,
      checkoutShare: this.settings.checkoutShare,
      made: this.made,
      perSecond: round(this.made / holdSeconds),
      bySeats: this.bySeats,
      walkedAway: this.walkedAway,
      checkouts: {
        sent: this.checkoutsSent,
        made: this.orders.size,
        perSecond: this.orders.size > 0 ? round(this.orders.size / checkoutSeconds) : 0,
        outcomes: this.checkoutOutcomes,
        latency: this.checkoutLatency.summary(),
      },
      refusalCost: this.refusalCost,
      statements: this.statements,
      expiryLag: this.expiryLag ?? { database: empty, subscriber: empty, retaken: 0, unheard: 0 },
      subscriber: { messages: this.messages, failures: this.subscriberFailures },
    };
    return { soldOut: sold === this.venue.ticketGlobalIds.length, holds };
  }
}

/** A number option within [min, max]; `fallback` when not given. */
function numberIn(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max)
    throw new Error(`--${name}: "${text}" is not a number from ${min} to ${max}`);
  return value;
}

function thinkTime(text: string | undefined): number {
  try {
    return parseDuration(text ?? '2s');
  } catch {
    throw new Error(`--think: "${text}" is not a duration like 2s`);
  }
}

/**
 * Buyers hold 1-4 seats at the load's rate (`holdSeats`, each with its own idempotency key); a
 * share check out (`checkout`) a think time after the hold's answer, the rest walk away and their
 * holds expire. Holds are short (`--hold-seconds`), so expiry happens during the run; a graphql-ws
 * subscriber watches the event. Before the load, a refusal-only window measures what refused holds
 * cost Postgres; after it, the run waits until every hold has expired and a second more, then checks
 * the holds in SQL. Runs on redis-lock only.
 */
export const holdCheckout: Scenario = {
  name: 'hold-checkout',
  summary: 'buyers hold 1-4 seats of --seats; a share check out after a think time, the rest let the hold expire',
  options: [
    SEATS_OPTION,
    { name: 'hold-seconds', usage: 'S  how long a hold lasts, 2-3600 s (HOLD_TTL_MS; default 5)' },
    { name: 'think', usage: '2s  from a hold to its checkout (ms, s or m; default 2s)' },
    { name: 'checkout-share', usage: 'F  share of holds checked out, 0-1 (default 0.7)' },
  ],
  configure(values) {
    const settings: Settings = {
      seats: venueSeats(values),
      holdSeconds: numberIn('hold-seconds', values['hold-seconds'], 5, 2, 3600),
      thinkMs: thinkTime(values.think),
      checkoutShare: numberIn('checkout-share', values['checkout-share'], 0.7, 0, 1),
    };
    if (settings.seats < 2 * BLOCKING_HOLDS * MOST_SEATS)
      throw new Error(`--seats: hold-checkout needs at least ${2 * BLOCKING_HOLDS * MOST_SEATS}`);
    return {
      settings: { ...settings },
      label: `hold-checkout (${settings.holdSeconds} s holds, ${Math.round(settings.checkoutShare * 100)} % check out after ${settings.thinkMs / 1000} s)`,
      seats: settings.seats,
      perCustomerLimit: null,
      // The most a buyer holds: each server's warm-up holds this many seats.
      seatsPerPurchase: MOST_SEATS,
      bodyOf: (ids) => holdBody(ids, randomUUID()),
      runsOn: {
        strategies: ['redis-lock'],
        why: 'a hold always goes through the Redis lock (PURCHASE_STRATEGY only picks how purchaseTicket(s) sell), and the floor server has no holds, so there is nothing to compare',
      },
      serverEnv: { HOLD_TTL_MS: String(Math.round(settings.holdSeconds * 1000)) },
      countStatements: true,
      start: (venue) => new HoldCheckoutRun(venue, settings),
      judge: (_options, product) => judge(product),
      reportLines,
      consoleLines,
    };
  },
};
