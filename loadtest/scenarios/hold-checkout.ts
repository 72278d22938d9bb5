import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type postgres from 'postgres';
import type { Pool } from 'undici';
import { parseDuration } from '../cli-values.js';
import type { ContenderResult, HoldFigures } from '../contender-result.js';
import { runLoad } from '../generator.js';
import { type GoalVerdict, met } from '../goals.js';
import { type Clients, openClients } from '../http-client.js';
import type { InvariantResult } from '../invariants.js';
import { LatencyRecorder, type LatencySummary } from '../latency.js';
import { AVAILABILITY_SUBSCRIPTION, openSubscriber } from '../live.js';
import { RandomPool } from '../random-pool.js';
import { sleep } from '../services.js';
import { type StatementDelta, type StatementSnapshot, statementsBetween } from '../statement-counter.js';
import type { Outcome, Target } from '../targets.js';
import { type LoadContext, type SaleRun, type Scenario, SEATS_OPTION, type Venue, venueSeats } from './scenario.js';

/** The hold a buyer asks for: the seats, a key of its own, and what a checkout page needs back. */
export const HOLD_MUTATION = `mutation Hold($ticketIds: [ID!]!, $key: String!) { holdSeats(input: { ticketIds: $ticketIds, idempotencyKey: $key }) { __typename ... on HoldSeatsSuccess { hold { id expiresAt } } ... on TicketsUnavailable { tickets { ticketId reason } } ... on Error { message } } }`;

/** Paying for a hold. */
export const CHECKOUT_MUTATION = `mutation Pay($holdId: ID!, $key: String!) { checkout(input: { holdId: $holdId, idempotencyKey: $key }) { __typename ... on CheckoutSuccess { order { id totalCents } } ... on HoldExpired { holdId expiredAt } ... on Error { message } } }`;

const HOLD_QUERY = JSON.stringify(HOLD_MUTATION);
const CHECKOUT_QUERY = JSON.stringify(CHECKOUT_MUTATION);

/** The request body that holds these seats under `key`. */
export const holdBody = (ticketGlobalIds: readonly string[], key: string): string =>
  `{"query":${HOLD_QUERY},"variables":{"ticketIds":${JSON.stringify(ticketGlobalIds)},"key":${JSON.stringify(key)}}}`;

const checkoutBody = (holdGlobalId: string, key: string): string =>
  `{"query":${CHECKOUT_QUERY},"variables":{"holdId":${JSON.stringify(holdGlobalId)},"key":${JSON.stringify(key)}}}`;

/** A buyer holds 1 to this many seats. */
const MOST_SEATS = 4;
/** Holds made before the refusal window, each of MOST_SEATS seats at the venue's end: what refused buyers ask for. */
const BLOCKING_HOLDS = 10;
/** The hold statement's text, to count its executions among the statements (holds.ts, hold-storage.ts). */
const HOLD_STATEMENT = /\binsert into holds\b/i;
/** Keep-alive connections per server for the checkouts and the blocking holds. */
const CHECKOUT_CONNECTIONS = 16;

/** The options this scenario reads, defaults filled in. */
interface Settings {
  seats: number;
  holdSeconds: number;
  thinkMs: number;
  checkoutShare: number;
}

/** `Hold:<uuid>` (or `Order:`) from a global id, lower case; anything else as it is. */
function uuidOf(globalId: string, typename: string): string {
  const decoded = Buffer.from(globalId, 'base64').toString('utf8');
  return decoded.startsWith(`${typename}:`) ? decoded.slice(typename.length + 1).toLowerCase() : globalId;
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const bump = (counts: Record<string, number>, key: string, by = 1) => {
  counts[key] = (counts[key] ?? 0) + by;
};
const byCount = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort(([, a], [, b]) => b - a)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || 'none';
const lagText = (s: LatencySummary) => (s.count === 0 ? '–' : `${s.p50} / ${s.p99} / ${s.max}`);

/** One GraphQL POST; resolves with the answer's field `field`, or an error's kind. */
async function post(
  pool: Pool,
  authorization: string,
  body: string,
  field: string,
): Promise<{ result?: Record<string, unknown> & { __typename?: string }; error?: string }> {
  try {
    const response = await pool.request({
      path: '/graphql',
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body,
    });
    const text = await response.body.text();
    let reply: { data?: Record<string, unknown> | null; errors?: Array<{ extensions?: { code?: string } }> };
    try {
      reply = JSON.parse(text);
    } catch {
      return { error: `HTTP ${response.statusCode} non-JSON` };
    }
    const first = reply.errors?.[0];
    if (first) return { error: `GraphQL ${first.extensions?.code ?? 'error'}` };
    if (response.statusCode !== 200) return { error: `HTTP ${response.statusCode}` };
    const result = reply.data?.[field] as (Record<string, unknown> & { __typename?: string }) | undefined;
    return result ? { result } : { error: 'empty result' };
  } catch (error) {
    return { error: (error as { code?: string }).code ?? (error as Error).name ?? 'Error' };
  }
}

/**
 * What buyers know of the seat map: seats they believe free, and seats not yet seen sold. They learn
 * from their own answers (a hold takes its seats, a checkout sells them, a refusal names seats HELD
 * or SOLD) and from the subscriber's messages, newest version first, as a seat map does: an expired
 * hold's seats come back when its AVAILABLE message arrives.
 */
class SeatMap {
  readonly free: RandomPool;
  readonly unsold: RandomPool;
  private readonly versions: Float64Array;

  constructor(seats: number) {
    this.free = new RandomPool(seats);
    this.unsold = new RandomPool(seats);
    this.versions = new Float64Array(seats);
  }

  heard(seat: number, status: string, version: number): void {
    if (!(version > (this.versions[seat] ?? 0))) return;
    this.versions[seat] = version;
    if (status === 'AVAILABLE') {
      if (this.unsold.has(seat)) this.free.add(seat);
    } else if (status === 'SOLD') this.sold(seat);
    else this.taken(seat);
  }

  taken(seat: number): void {
    this.free.remove(seat);
  }

  sold(seat: number): void {
    this.free.remove(seat);
    this.unsold.remove(seat);
  }
}

/** A hold a buyer saw made. */
interface SeenHold {
  globalId: string;
  seats: number[];
  expiresAtMs: number;
  authorization: string;
}

/** One change of a seat as the subscriber heard it: status, its Postgres stamp, and when it arrived (both epoch ms). */
interface Heard {
  status: string;
  changedAt: number;
  arrival: number;
}

/** A target whose bodies are written as buyers come (each hold needs a fresh idempotency key). */
class GrowingTarget implements Target {
  readonly bodies: string[] = [];
  private readonly seatsOf: number[][] = [];

  constructor(
    private readonly pick: () => number[] | null,
    private readonly bodyOf: (seats: number[], index: number) => string,
    private readonly answered: (seats: number[], outcome: Outcome, authorization: string) => void,
  ) {}

  next(): number {
    const seats = this.pick();
    if (!seats) return -1;
    const index = this.bodies.length;
    this.seatsOf.push(seats);
    this.bodies.push(this.bodyOf(seats, index));
    return index;
  }

  observe(index: number, outcome: Outcome, authorization: string): void {
    const seats = this.seatsOf[index] ?? [];
    // Sent and answered: let the body and the seats go.
    this.bodies[index] = '';
    this.seatsOf[index] = [];
    this.answered(seats, outcome, authorization);
  }
}

/** Draws up to `want` distinct members of `pool`, leaving them in it. */
function drawDistinct(pool: RandomPool, want: number): number[] {
  const drawn: number[] = [];
  while (drawn.length < want && pool.size > 0) {
    const member = pool.draw(Math.random);
    drawn.push(member);
    pool.remove(member);
  }
  for (const member of drawn) pool.add(member);
  return drawn;
}

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
    const holds = await sql<
      Array<{
        id: string;
        status: string;
        order_id: string | null;
        expires_ms: number;
        ended_ms: number | null;
        seats: string[];
        order_seats: string[] | null;
      }>
    >`
      select h.id::text as id, h.status::text as status, h.order_id::text as order_id,
        (extract(epoch from h.expires_at) * 1000)::float8 as expires_ms,
        (extract(epoch from h.ended_at) * 1000)::float8 as ended_ms,
        array(select ht.ticket_id::text from hold_tickets ht where ht.hold_id = h.id order by 1) as seats,
        case when h.order_id is null then null else
          array(select ot.ticket_id::text from order_tickets ot
                where ot.order_id = h.order_id and ot.released_at is null order by 1) end as order_seats
      from holds h where h.event_id = ${eventId}`;
    const [seats] = await sql<Array<{ held: number; by_ended: number; active: number; overdue: number; kept: number }>>`
      select
        (select count(*)::int from tickets where event_id = ${eventId} and status = 'HELD') as held,
        (select count(*)::int from tickets t left join holds h on h.id = t.hold_id
          where t.event_id = ${eventId} and t.status = 'HELD' and (h.id is null or h.status <> 'ACTIVE')) as by_ended,
        (select count(*)::int from holds where event_id = ${eventId} and status = 'ACTIVE') as active,
        (select count(*)::int from holds where event_id = ${eventId} and status = 'ACTIVE'
          and expires_at < now() - interval '1 second') as overdue,
        (select count(*)::int from tickets t join holds h on h.id = t.hold_id
          where t.event_id = ${eventId} and h.expires_at < now() - interval '1 second') as kept`;
    const [orphans] = await sql<Array<{ n: number }>>`
      select count(*)::int as n from orders o where o.event_id = ${eventId}
        and not exists (select 1 from holds h where h.order_id = o.id and h.status = 'CHECKED_OUT')`;
    const [counters] = await sql<Array<{ customers: number; drift: number }>>`
      with bought as (
        select o.customer_id, count(*)::int as n from orders o
        join order_tickets ot on ot.order_id = o.id and ot.released_at is null
        where o.event_id = ${eventId} group by o.customer_id
      ),
      held as (
        select h.customer_id, count(*)::int as n from holds h join tickets t on t.hold_id = h.id
        where h.event_id = ${eventId} and h.status = 'ACTIVE' group by h.customer_id
      ),
      counted as (select customer_id, tickets as n from customer_event_tickets where event_id = ${eventId})
      select count(*)::int as customers,
        count(*) filter (where coalesce(c.n, 0) <> coalesce(b.n, 0) + coalesce(hd.n, 0))::int as drift
      from counted c full join bought b using (customer_id) full join held hd using (customer_id)`;

    const checkedOut = holds.filter((h) => h.status === 'CHECKED_OUT');
    const wrongOrders = checkedOut.filter((h) => !h.order_seats || h.order_seats.join() !== h.seats.join()).length;
    const inSql = new Map(holds.map((h) => [h.id, h]));
    let seatsAsked = 0;
    let wrongSeats = 0;
    let unseenHolds = 0;
    for (const [id, seen] of this.holds) {
      const row = inSql.get(id);
      if (!row) {
        unseenHolds++;
        continue;
      }
      const asked = seen.seats.map((seat) => this.venue.ticketIds[seat] ?? '').sort();
      if (asked.join() === row.seats.join()) seatsAsked++;
      else wrongSeats++;
    }
    let ordersMatch = 0;
    for (const [holdId, orderId] of this.orders) if (inSql.get(holdId)?.order_id === orderId) ordersMatch++;
    this.expiryLag = this.lagOf(holds.filter((h) => h.status === 'EXPIRED'));

    const held = seats?.held ?? 0;
    const byEnded = seats?.by_ended ?? 0;
    const overdue = seats?.overdue ?? 0;
    const kept = seats?.kept ?? 0;
    return [
      {
        name: 'no seat HELD whose hold is not ACTIVE',
        pass: byEnded === 0,
        detail: `${held} seats HELD at the end, ${byEnded} of them by a hold that is not ACTIVE (or by none)`,
      },
      {
        name: 'no hold ACTIVE more than 1 s past its expiry',
        pass: overdue === 0 && kept === 0,
        detail: `${seats?.active ?? 0} holds ACTIVE at the end (checked ${round(this.holdMs / 1000 + 1)} s after the load), ${overdue} of them more than 1 s past expires_at; ${kept} seats still kept by such a hold`,
      },
      {
        name: "every checked-out hold's order = its seats",
        pass:
          wrongOrders === 0 &&
          (orphans?.n ?? 0) === 0 &&
          wrongSeats === 0 &&
          unseenHolds === 0 &&
          ordersMatch === this.orders.size,
        detail: `${checkedOut.length} CHECKED_OUT holds, ${wrongOrders} whose order's live lines are not exactly the hold's seats; ${orphans?.n ?? 0} orders made by no checkout; of ${this.holds.size} holds buyers saw made, ${seatsAsked} hold exactly the seats asked for, ${wrongSeats} do not, ${unseenHolds} are not in SQL; ${ordersMatch} of ${this.orders.size} orders buyers saw are their hold's order`,
      },
      {
        name: 'customer counts = bought + actively held seats',
        pass: (counters?.drift ?? 0) === 0,
        detail: `${counters?.customers ?? 0} customers, ${counters?.drift ?? 0} whose customer_event_tickets differs from their live order lines plus the seats of their ACTIVE holds`,
      },
    ];
  }

  /** Expiry lag of the EXPIRED holds, in Postgres and at the subscriber (see HoldFigures.expiryLag). */
  private lagOf(expired: ReadonlyArray<{ expires_ms: number; ended_ms: number | null; seats: string[] }>) {
    const database = new LatencyRecorder();
    const subscriber = new LatencyRecorder();
    const seatOfId = new Map(this.venue.ticketIds.map((id, i) => [id, i]));
    let retaken = 0;
    let unheard = 0;
    for (const hold of expired) {
      const expiresAt = Math.round(hold.expires_ms);
      if (hold.ended_ms !== null) database.record(Math.round(hold.ended_ms) - expiresAt);
      for (const id of hold.seats) {
        const log = this.heard[seatOfId.get(id) ?? -1] ?? [];
        const first = log.find((change) => change.changedAt >= expiresAt);
        if (!first) unheard++;
        else if (first.status === 'AVAILABLE') subscriber.record(first.arrival - expiresAt);
        else retaken++;
      }
    }
    return { database: database.summary(), subscriber: subscriber.summary(), retaken, unheard };
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

const holdStatements = (delta: StatementDelta) =>
  Object.entries(delta.byText)
    .filter(([text]) => HOLD_STATEMENT.test(text))
    .reduce((sum, [, n]) => sum + n, 0);

/** The texts cut to their first 160 characters (for the report), counts merged where they then agree. */
function shortTexts(delta: StatementDelta): StatementDelta {
  const byText: Record<string, number> = {};
  for (const [text, n] of Object.entries(delta.byText))
    bump(byText, text.length > 160 ? `${text.slice(0, 159)}…` : text, n);
  return { ...delta, byText };
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

// ---------------------------------------------------------------------------------------------
// The report: the console lines, the Markdown table and notes, the targets.

function refusalText(cost: HoldFigures['refusalCost']): string {
  if (!cost) return 'refusal window: not measured';
  return `refusal window: ${cost.refusals} refused holds (${byCount(cost.outcomes)}) in ${cost.window.ms} ms: ${cost.window.total} statements (${cost.idle.total} in the ${cost.idle.ms} ms idle window before), ${cost.unexplained} of kinds the idle servers did not send → ${cost.perRefusal} per refusal; hold statements ${cost.holdStatements}${cost.clean ? '' : ' (a blocking hold expired before the window ended: not clean)'}`;
}

function consoleLines(r: ContenderResult): string[] {
  const h = r.sale.holds;
  if (!h) return [];
  const c = h.checkouts;
  const lag = h.expiryLag;
  return [
    `holds ${h.made} (${h.holdSeconds} s each): ${h.perSecond}/s; checkouts ${c.made} of ${c.sent} sent: ${c.perSecond}/s, p50/p99 ${c.latency.p50}/${c.latency.p99} ms from due; walked away ${h.walkedAway}`,
    `hold refusals: ${byCount(r.load.rejects)}; checkout answers: ${byCount(c.outcomes)}`,
    refusalText(h.refusalCost),
    `expiry lag p50/p99/max ms: database ${lagText(lag.database).replaceAll(' ', '')} (${lag.database.count} holds); subscriber ${lagText(lag.subscriber).replaceAll(' ', '')} (${lag.subscriber.count} seats; ${lag.retaken} re-taken first, ${lag.unheard} unheard)`,
    h.statements
      ? `Postgres statements, load start to last expiry: ${h.statements.total} (${h.statements.holdStatements} hold statements for ${h.made} holds made)`
      : 'Postgres statements: not counted',
  ];
}

function reportLines(results: readonly ContenderResult[]): string[] {
  return results.flatMap((r) => {
    const h = r.sale.holds;
    if (!h) return [];
    const c = h.checkouts;
    const lag = h.expiryLag;
    const cost = h.refusalCost;
    return [
      '',
      `### ${r.contender}: holds and checkouts`,
      '',
      '| holds made | holds/s | seats per hold (holds) | checkouts made / sent | checkouts/s | checkout p50 / p95 / p99 / max from due (ms) | walked away | hold refusals | checkout answers |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      `| ${h.made} | ${h.perSecond} | ${byCount(h.bySeats)} | ${c.made} / ${c.sent} | ${c.perSecond} | ${c.latency.p50} / ${c.latency.p95} / ${c.latency.p99} / ${c.latency.max} | ${h.walkedAway} | ${byCount(r.load.rejects)} | ${byCount(c.outcomes)} |`,
      '',
      '| expiry lag (ms) | p50 / p99 / max | count |',
      '| --- | --- | --- |',
      `| expires_at → AVAILABLE in Postgres (ended_at) | ${lagText(lag.database)} | ${lag.database.count} holds |`,
      `| expires_at → AVAILABLE message at the subscriber | ${lagText(lag.subscriber)} | ${lag.subscriber.count} seats (${lag.retaken} taken again before an AVAILABLE message, ${lag.unheard} unheard) |`,
      '',
      `- Refusal cost: ${refusalText(cost)}.${cost ? ` Sent only in the refusal window: ${byCount(cost.onlyInWindow)}.` : ''}`,
      h.statements
        ? `- Postgres statements from the load's start to the end of the expiry wait: ${h.statements.total}, of which ${h.statements.holdStatements} hold statements for ${h.made} holds made (the difference: hold statements Postgres itself refused, or ran again after freeing an expired hold's seats).`
        : '- Postgres statements: not counted.',
      `- Holds last ${h.holdSeconds} s (\`HOLD_TTL_MS\`); ${Math.round(h.checkoutShare * 100)} % of buyers check out ${h.thinkMs / 1000} s after their hold's answer, the rest walk away. The ${BLOCKING_HOLDS} holds that block the refusal window count as walked away. The servers reach Postgres through the harness' statement counter, a loopback proxy.`,
    ];
  });
}

function judge(product: ContenderResult): GoalVerdict[] {
  const h = product.sale.holds;
  if (!h) return [];
  const cost = h.refusalCost;
  const { database, subscriber } = h.expiryLag;
  const lagGoal = (where: string, s: LatencySummary, unit: string): GoalVerdict => ({
    goal: `expiry lag to ${where} p99 ≤ 1 s (redis-lock)`,
    verdict: s.count === 0 ? 'n/a' : met(s.p99 <= 1000),
    evidence:
      s.count === 0
        ? `no ${unit} expired`
        : `p50 ${s.p50} ms, p99 ${s.p99} ms, max ${s.max} ms over ${s.count} ${unit}`,
  });
  return [
    {
      goal: 'refused holds cost 0 Postgres statements (redis-lock)',
      verdict: !cost?.clean || cost.refusals === 0 ? 'n/a' : met(cost.holdStatements === 0 && cost.perRefusal <= 0.01),
      evidence: cost
        ? `${refusalText(cost)}. A refusal that reached Postgres would send at least its hold statement or a read the idle servers never send; judged at ≤ 0.01 per refusal, so a periodic read landing in the window (the live resync, every 5 s) does not count as a cost`
        : 'not measured',
    },
    lagGoal('AVAILABLE in the database', database, 'holds'),
    lagGoal("the subscriber's AVAILABLE message", subscriber, 'seats'),
  ];
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
