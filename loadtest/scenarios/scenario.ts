import type postgres from 'postgres';
import type { SectionLayout } from '../../src/catalog/events.js';
import type { PurchaseStrategyName } from '../../src/config.js';
import { positiveInt } from '../cli-values.js';
import type { ContenderResult, SaleFigures } from '../contender-result.js';
import type { GoalVerdict } from '../goals.js';
import type { InvariantResult } from '../invariants.js';
import type { LoadOptions } from '../options.js';
import type { StatementCounter } from '../statement-counter.js';
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

/** What a sale run may use around the load (see SaleRun.begin): the servers, the event, the buyers. */
export interface LoadContext {
  options: LoadOptions;
  /** The servers' GraphQL URLs (http://…/graphql; the same path serves graphql-ws). */
  urls: readonly string[];
  eventGlobalId: string;
  /** The buyers' `Authorization` headers, as the generator sends them. */
  authorizations: readonly string[];
  /** Statements the servers send Postgres, when the plan asked for them (SalePlan.countStatements). */
  statements: StatementCounter | null;
}

/** One contender's pass through a sale: where buyers go, and what the scenario checks afterwards. */
export interface SaleRun {
  readonly target: Target;
  /** Before the generator starts, with the servers up and warm: what the scenario does first. */
  readonly begin?: (context: LoadContext) => Promise<void>;
  /** After the generator's last answer, with the servers still up: its own follow-ups, to their end. */
  readonly end?: () => Promise<void>;
  /**
   * What buyers saw bought, where a win of the load is not an order (a hold is a win, its checkout
   * the order): orders, their seats, and requests that got no answer (and may have bought). Without
   * it, orders are the load's wins of `seatsPerPurchase` seats each.
   */
  readonly bought?: () => { orders: number; seats: number; unanswered: number };
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
  /** The warm-up's body when the load's cannot name seats (best available): bodyOf otherwise. */
  readonly warmUpBodyOf?: BodyOf;
  /** The venue's layout for `seats` (default: loadtest/database.ts venueLayout). */
  readonly layout?: (seats: number) => SectionLayout[];
  /**
   * The only strategies it runs on, and why (the floor is refused too); absent: every contender.
   * Any other `--strategy`, `--strategies` or `compare` default is refused on the command line.
   */
  readonly runsOn?: { strategies: readonly PurchaseStrategyName[]; why: string };
  /** Server environment beyond the runner's (e.g. `HOLD_TTL_MS`). */
  readonly serverEnv?: Readonly<Record<string, string>>;
  /** Route the servers' Postgres connections through a statement counter (statement-counter.ts). */
  readonly countStatements?: boolean;
  /** A fresh run over the seeded venue; each contender gets its own. */
  start(venue: Venue): SaleRun;
  /** Its targets beyond "0 oversells", judged on the product's (redis-lock's) result. */
  judge(options: LoadOptions, product: ContenderResult, results: readonly ContenderResult[]): GoalVerdict[];
  /** Markdown after the main tables: the sale's own table and notes. */
  reportLines?(results: readonly ContenderResult[]): string[];
  /** Console lines after a contender's summary: the sale's own figures. */
  consoleLines?(result: ContenderResult): string[];
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
