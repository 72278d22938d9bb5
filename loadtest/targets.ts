import type { SaleScenario } from './options.js';
import { RandomPool } from './random-pool.js';
import { type MultiSeatTarget, multiSeat } from './scenarios/multi-seat-target.js';

/** The purchase a client sends: the product's mutation, asking for what a checkout page shows. */
export const PURCHASE_MUTATION = `mutation Buy($ticketId: ID!) { purchaseTicket(input: { ticketId: $ticketId }) { __typename ... on PurchaseTicketSuccess { order { id totalCents } } ... on TicketUnavailable { reason } ... on Error { message } } }`;

/** A seat a refused multi-seat purchase named, by the global id the request used. */
export interface UnavailableSeat {
  ticketId: string;
  reason: string;
}

/**
 * What an attempt came to, as the generator saw it. A multi-seat win carries its order's id and a
 * multi-seat refusal the seats it named, so the target can learn which seats are sold.
 */
export type Outcome =
  | { kind: 'win'; orderId?: string }
  | { kind: 'reject'; reason: string; unavailable?: readonly UnavailableSeat[] }
  | { kind: 'error'; error: string };

/** Which seat the next buyer goes for, and what the generator learns from each answer. */
export interface Target {
  /** A ticket index, or -1 when there is nothing left worth trying (every seat seen sold). */
  next(): number;
  observe(index: number, outcome: Outcome): void;
  /** Request bodies by ticket index, built once before the load starts. */
  readonly bodies: readonly string[];
}

const PURCHASE_QUERY = JSON.stringify(PURCHASE_MUTATION);

/** The request body that buys one ticket. */
export function purchaseBody(ticketGlobalId: string): string {
  return `{"query":${PURCHASE_QUERY},"variables":{"ticketId":${JSON.stringify(ticketGlobalId)}}}`;
}

/** One request body per ticket: the mutation with that ticket's global id. */
export function purchaseBodies(ticketGlobalIds: readonly string[]): string[] {
  return ticketGlobalIds.map(purchaseBody);
}

/** Everyone wants ticket 0, for the whole run. */
export function hotSeat(ticketGlobalIds: readonly string[]): Target {
  const bodies = purchaseBodies(ticketGlobalIds.slice(0, 1));
  return { bodies, next: () => 0, observe() {} };
}

/**
 * Buyers pick a random seat among those the generator has not yet seen sold (a win, or a SOLD
 * answer). Seats being checked out stay in the pool, so late buyers meet LOCKED as real ones do.
 */
export function seatRush(ticketGlobalIds: readonly string[], random: () => number = Math.random): Target {
  const unseen = new RandomPool(ticketGlobalIds.length);
  return {
    bodies: purchaseBodies(ticketGlobalIds),
    next: () => unseen.draw(random),
    observe(index, outcome) {
      if (outcome.kind === 'win' || (outcome.kind === 'reject' && outcome.reason === 'SOLD')) unseen.remove(index);
    },
  };
}

/** The venue a target works on: ticket ids in seat-map order, the row lengths, the group size. */
export interface Venue {
  ticketGlobalIds: readonly string[];
  rowLengths: readonly number[];
  group: number;
}

/** The target for a scenario; multi-seat's also knows which order bought which seats. */
export function targetFor(scenario: SaleScenario, venue: Venue): Target | MultiSeatTarget {
  if (scenario === 'hot-seat') return hotSeat(venue.ticketGlobalIds);
  if (scenario === 'seat-rush') return seatRush(venue.ticketGlobalIds);
  return multiSeat(venue.ticketGlobalIds, venue.rowLengths, venue.group);
}
