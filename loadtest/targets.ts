/** The purchase a client sends: the product's mutation, asking for what a checkout page shows. */
export const PURCHASE_MUTATION = `mutation Buy($ticketId: ID!) { purchaseTicket(input: { ticketId: $ticketId }) { __typename ... on PurchaseTicketSuccess { order { id totalCents } } ... on TicketUnavailable { reason } ... on Error { message } } }`;

/** A seat a refused multi-seat purchase named, by the global id the request used. */
export interface UnavailableSeat {
  ticketId: string;
  reason: string;
}

/**
 * What an attempt came to, as the generator saw it. A multi-seat win carries its order's id, a hold
 * its hold's id and expiry, and a multi-seat (or hold) refusal the seats it named, so the target can
 * learn which seats are taken.
 */
export type Outcome =
  | { kind: 'win'; orderId?: string; hold?: { id: string; expiresAt: string } }
  | { kind: 'reject'; reason: string; unavailable?: readonly UnavailableSeat[] }
  | { kind: 'error'; error: string };

/** Which seat the next buyer goes for, and what the generator learns from each answer. */
export interface Target {
  /** A ticket index, or -1 when there is nothing left worth trying (every seat seen sold). */
  next(): number;
  /** What the attempt for `index` came to; `authorization` is the buyer's header it was sent with. */
  observe(index: number, outcome: Outcome, authorization: string): void;
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

/** The one-seat body as a warm-up's `BodyOf`: buys the first (only) seat it is given. */
export const oneSeatBody = (ticketGlobalIds: readonly string[]): string => purchaseBody(ticketGlobalIds[0] ?? '');
