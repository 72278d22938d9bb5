import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type postgres from 'postgres';
import type { HoldFigures } from '../contender-result.js';
import { type Clients, openClients } from '../http-client.js';
import type { InvariantResult } from '../invariants.js';
import { LatencyRecorder } from '../latency.js';
import { sleep } from '../services.js';
import { type StatementSnapshot, statementsBetween } from '../statement-counter.js';
import type { Outcome } from '../targets.js';
import {
  BLOCKING_HOLDS,
  CHECKOUT_CONNECTIONS,
  checkoutBody,
  drawDistinct,
  GrowingTarget,
  holdBody,
  MOST_SEATS,
  post,
  SeatMap,
  type SeenHold,
  type Settings,
  uuidOf,
} from './hold-checkout-buyers.js';
import { holdChecks } from './hold-checkout-checks.js';
import { HoldListener } from './hold-checkout-listener.js';
import { globalIdsOf, measureRefusalCost } from './hold-checkout-refusals.js';
import { bump, holdStatements, round, shortTexts } from './hold-checkout-report.js';
import type { LoadContext, SaleRun, Venue } from './scenario.js';

/** One contender's hold-checkout run: buyers, checkouts, the subscriber, the refusal window, the checks. */
export class HoldCheckoutRun implements SaleRun {
  readonly target: GrowingTarget;
  private readonly map: SeatMap;
  private readonly seatOf: Map<string, number>;
  private readonly tag = randomUUID().slice(0, 8);
  private readonly holdMs: number;

  private context: LoadContext | null = null;
  private pools: Clients | null = null;
  private readonly listener: HoldListener;

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
    this.listener = new HoldListener(this.map, this.seatOf);
    this.holdMs = Math.round(settings.holdSeconds * 1000);
    this.target = new GrowingTarget(
      () => this.pickSeats(),
      (seats, index) => holdBody(this.globalIds(seats), `hold-${this.tag}-${index}`),
      (seats, outcome, authorization) => this.answered(seats, outcome, authorization),
    );
  }

  private globalIds(seats: readonly number[]): string[] {
    return globalIdsOf(this.venue, seats);
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

  async begin(context: LoadContext): Promise<void> {
    this.context = context;
    const { urls, eventGlobalId, authorizations, statements } = context;
    if (authorizations.length < 2 * BLOCKING_HOLDS)
      throw new Error(`hold-checkout needs at least ${2 * BLOCKING_HOLDS} buyers (--buyers)`);
    this.pools = openClients([...urls], CHECKOUT_CONNECTIONS);
    await this.listener.start(urls[0] ?? '', eventGlobalId);
    if (statements) {
      const block = (hold: { id: string; expiresAt: string }, seats: number[], authorization: string) => {
        this.walkedAway++;
        return this.remember(hold, seats, authorization);
      };
      const window = { venue: this.venue, pools: this.pools.pools, tag: this.tag, holdMs: this.holdMs };
      this.refusalCost = await measureRefusalCost(context, window, block);
    }
    this.loadFrom = (await statements?.snapshot()) ?? null;
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
    this.listener.stop();
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
      heard: this.listener.heard,
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
      subscriber: { messages: this.listener.messages, failures: this.listener.failures },
    };
    return { soldOut: sold === this.venue.ticketGlobalIds.length, holds };
  }
}
