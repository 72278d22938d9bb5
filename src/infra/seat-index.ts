import type { IndexTicket } from '../catalog/best-seats.js';
import type { Lease } from './ticket-lock.js';

/** What a buyer of "the best N seats" asks the index for. */
export interface PickRequest {
  eventId: string;
  quantity: number;
  /** Adjacent seats in one row (a general-admission section: any units of one section). */
  together: boolean;
  /** Only rows of these sections (names); undefined: any. */
  sections?: readonly string[] | undefined;
  /** Only rows whose seats cost at most this; undefined: any price. */
  maxPriceCents?: number | undefined;
}

/** What a pick found. */
export type PickResult =
  /** The seats, each locked as the ticket lock would (the leases settle through it). */
  | { kind: 'picked'; leases: Lease[] }
  /** Not enough free seats match; `available` is how many free seats match, as the index counts. */
  | { kind: 'short'; available: number }
  /** The index of this event is missing (never built, or Redis lost it): rebuild it from Postgres. */
  | { kind: 'lost' };

/**
 * The per-event free-seat index: finds N free seats by the best-seats rule (catalog/best-seats.ts),
 * locks them and marks them taken, in one step (one Lua script on Redis). Postgres still confirms
 * every pick; the index only decides which seats to ask for.
 */
export interface SeatIndex {
  pick(request: PickRequest): Promise<PickResult>;
  /**
   * Rebuilds the event's index from `load` (a Postgres read), unless another instance is already
   * rebuilding it: then returns false at once, and the caller waits for that one.
   */
  rebuild(eventId: string, load: () => Promise<IndexTicket[]>): Promise<boolean>;
  /**
   * True at most once per `intervalMs` for an event, across instances: leave to check the index
   * against Postgres (when it says too few seats are left).
   */
  mayCheck(eventId: string, intervalMs: number): Promise<boolean>;
}
