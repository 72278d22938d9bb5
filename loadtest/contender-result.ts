import type { CpuShares } from './cpu-census.js';
import type { DatabaseCounters } from './database.js';
import type { LoadResult } from './generator.js';
import type { InvariantResult } from './invariants.js';
import type { LatencySummary } from './latency.js';
import type { LiveResult } from './live.js';
import type { Contender } from './options.js';
import type { StatementDelta } from './statement-counter.js';

/** What a scenario adds to a run's sale figures (see SaleRun.figures). */
export interface SaleFigures {
  /** Nothing left to sell: every seat (multi-seat: every block of adjacent seats) is gone. */
  soldOut: boolean;
  /** multi-seat: seats per order, the event's per-customer limit, orders, free blocks left. */
  group?: { size: number; perCustomerLimit: number; orders: number; freeBlocks: number };
  /** hold-checkout: its holds, checkouts, expiries and refusals (scenarios/hold-checkout.ts). */
  holds?: HoldFigures;
  /** best-available and ga-rush: seats the server assigned (scenarios/best-available.ts). */
  assigned?: AssignedFigures;
}

/** What a best-available run measured: seats held by the server's choice, and the refusals before sell-out. */
export interface AssignedFigures {
  /** Seats in the holds the generator saw made, and those holds. */
  seats: number;
  holds: number;
  /** Seats per second, from the first send to the last win. */
  seatsPerSecond: number | null;
  /** Attempts answered before the last win, and how many of them were refused. */
  attemptsBeforeSellOut: number;
  refusedBeforeSellOut: number;
}

/** What a hold-checkout run measured beyond the load's own figures. */
export interface HoldFigures {
  holdSeconds: number;
  thinkMs: number;
  checkoutShare: number;
  /** Holds made by the load (its wins), per second from the first send to the last answer, by seats held. */
  made: number;
  perSecond: number;
  bySeats: Record<string, number>;
  /** Holds whose buyer walked away (no checkout). */
  walkedAway: number;
  /** Checkouts sent a think time after their hold, by answer; `perSecond` from the first sent to the last answered. */
  checkouts: {
    sent: number;
    made: number;
    perSecond: number;
    outcomes: Record<string, number>;
    /** From the moment it was due (hold answered + think time) to its answer, in ms. */
    latency: LatencySummary;
  };
  /**
   * A refusal-only window before the load: buyers ask for seats other buyers hold. The statements
   * the servers sent during it, and in an idle window of the same length just before it (what they
   * send with no request in flight: the hold sweeper's passes, the live resync). `unexplained`:
   * statements of the refusal window whose text the idle window did not send; `perRefusal` is that
   * over the refusals.
   */
  refusalCost: {
    refusals: number;
    outcomes: Record<string, number>;
    window: StatementDelta;
    idle: StatementDelta;
    unexplained: number;
    /** Those statements by text. */
    onlyInWindow: Record<string, number>;
    perRefusal: number;
    /** Executions of the hold statement in the window (any would be a refusal that reached Postgres). */
    holdStatements: number;
    /** The window ended before the first blocking hold expired, so every refusal met a live hold. */
    clean: boolean;
  } | null;
  /** Statements from the load's start to the end of the expiry wait; hold statements among them. */
  statements: {
    total: number;
    holdStatements: number;
    byText: Record<string, number>;
    unreadConnections: number;
  } | null;
  /**
   * Expiry lag in ms. `database`: ended_at − expires_at of EXPIRED holds. `subscriber`: for each seat
   * of an EXPIRED hold, the arrival of its AVAILABLE message (the first change stamped at or after
   * expires_at) − expires_at. `retaken`: seats whose first change heard after the expiry was already
   * a new hold or sale (one coalesced message carried both); `unheard`: seats with none.
   */
  expiryLag: { database: LatencySummary; subscriber: LatencySummary; retaken: number; unheard: number };
  /** The scenario's own graphql-ws subscriber: messages it got, and failures. */
  subscriber: { messages: number; failures: Record<string, number> };
}

/** Everything measured for one contender (a strategy or the floor server) in one scenario. */
export interface ContenderResult {
  contender: Contender;
  scenario: string;
  instances: number;
  database: string | null;
  load: LoadResult;
  attemptsPerSecond: number;
  /** CPU by owner during the load, in percent of one core; `other` is anything outside the test. */
  cpu: CpuShares;
  /**
   * `sold` counts seats (SQL, or the floor's wins × seats per purchase). `salesPerSecond` is wins
   * (orders) per second to the last win.
   */
  sale: { seats: number; sold: number; salesPerSecond: number | null } & SaleFigures;
  /**
   * Transactions of the load database during the load, net of each server's start-up and warm-up
   * (measured on a calibration instance) and of 2 per connection opened beyond those (the backend's
   * own start-up and postgres.js' type fetch, both measured).
   */
  pg: {
    transactions: number;
    raw: number;
    startupPerInstance: DatabaseCounters;
    connectionsOpened: number;
    perAttempt: number;
    perSale: number | null;
  } | null;
  /**
   * `commands` counts every client of the Redis server, or of every master (INFO commandstats). `lockedSeats`: the sale's
   * seats with a ticket-lock key under this contender's own prefix, i.e. sold (or held) through the
   * Redis lock; null for the floor.
   */
  redis: {
    commands: Record<string, number>;
    total: number;
    perAttempt: number;
    /** The Redis servers' CPU time per attempt (every master of a cluster), in µs; absent in older reports. */
    cpuMicrosPerAttempt?: number;
    lockedSeats: number | null;
  };
  invariants: InvariantResult[] | null;
  /** The `live` scenario's subscribers; null otherwise. */
  live: LiveResult | null;
}
