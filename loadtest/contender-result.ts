import type { CpuShares } from './cpu-census.js';
import type { DatabaseCounters } from './database.js';
import type { LoadResult } from './generator.js';
import type { InvariantResult } from './invariants.js';
import type { LiveResult } from './live.js';
import type { Contender } from './options.js';

/** What a scenario adds to a run's sale figures (see SaleRun.figures). */
export interface SaleFigures {
  /** Nothing left to sell: every seat (multi-seat: every block of adjacent seats) is gone. */
  soldOut: boolean;
  /** multi-seat: seats per order, the event's per-customer limit, orders, free blocks left. */
  group?: { size: number; perCustomerLimit: number; orders: number; freeBlocks: number };
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
   * `commands` counts every client of the Redis server (INFO commandstats). `lockedSeats`: the sale's
   * seats with a ticket-lock key under this contender's own prefix, i.e. sold (or held) through the
   * Redis lock; null for the floor.
   */
  redis: { commands: Record<string, number>; total: number; perAttempt: number; lockedSeats: number | null };
  invariants: InvariantResult[] | null;
  /** The `live` scenario's subscribers; null otherwise. */
  live: LiveResult | null;
}
