import type postgres from 'postgres';
import { positiveInt } from '../cli-values.js';
import type { ContenderResult, SaleFigures } from '../contender-result.js';
import type { GoalVerdict } from '../goals.js';
import type { InvariantResult } from '../invariants.js';
import type { LoadOptions } from '../options.js';
import type { Target } from '../targets.js';
import type { BodyOf } from '../warm-up.js';

/** A command-line option only some scenarios take, always `--name VALUE`. */
export interface ScenarioOption {
  name: string;
  /** The usage text after the flag: its value, what it means, its default. */
  usage: string;
}

/** The seeded venue of one contender's run, in seat-map order. The floor's ids are synthetic. */
export interface Venue {
  /** Database ids (empty for the floor, which has no database). */
  ticketIds: readonly string[];
  ticketGlobalIds: readonly string[];
  rowLengths: readonly number[];
}

/** One contender's pass through a sale: where buyers go, and what the scenario checks afterwards. */
export interface SaleRun {
  readonly target: Target;
  /** Invariants of its own, in SQL on the run's database, after the common ones (see invariants.ts). */
  readonly checks?: (sql: postgres.Sql, eventId: string) => Promise<InvariantResult[]>;
  /** Its sale figures once the run is over; `sold` and `orders` come from SQL (the floor: from its wins). */
  figures(counts: { sold: number; orders: number }): SaleFigures;
}

/** A scenario configured by its options: what the runner seeds and sends, and how the run is judged. */
export interface SalePlan {
  /** The options it read, defaults filled in; the JSON report keeps them. */
  readonly settings: Readonly<Record<string, number>>;
  /** How the report names the sale, e.g. `multi-seat (groups of 4)`. */
  readonly label: string;
  /** The venue to seed, and the event's per-customer limit (null: none). */
  readonly seats: number;
  readonly perCustomerLimit: number | null;
  /** Seats one purchase asks for: an order's size, and each server's warm-up group. */
  readonly seatsPerPurchase: number;
  /** The request body of one purchase, for the load and the warm-up alike. */
  readonly bodyOf: BodyOf;
  /** A fresh run over the seeded venue; each contender gets its own. */
  start(venue: Venue): SaleRun;
  /** Its targets beyond "0 oversells", judged on the product's (redis-lock's) result. */
  judge(options: LoadOptions, product: ContenderResult, results: readonly ContenderResult[]): GoalVerdict[];
  /** Markdown after the main tables: the sale's own table and notes. */
  reportLines?(results: readonly ContenderResult[]): string[];
}

/** A load-test scenario. Each is one file in this folder and one line in `index.ts`. */
export interface Scenario {
  readonly name: string;
  /** What happens, in one line (usage text). */
  readonly summary: string;
  /** The options it takes beyond the common ones. */
  readonly options: readonly ScenarioOption[];
  /** Reads its options (undefined: not given) into a plan; throws naming the first bad one. */
  configure(values: Readonly<Record<string, string | undefined>>): SalePlan;
}

/** `--seats N`, for scenarios that sell a venue of many seats. */
export const SEATS_OPTION: ScenarioOption = { name: 'seats', usage: 'N  venue size (default 10000)' };

/** The venue size `--seats` asks for. */
export const venueSeats = (values: Readonly<Record<string, string | undefined>>) =>
  positiveInt('seats', values.seats, 10_000);
