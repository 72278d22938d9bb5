import { type SaleSettings, saleStateAt } from '../catalog/sale-settings.js';
import { ticketKey } from '../catalog/ticket-key.js';
import { ExpectedError, NotFoundError } from '../errors.js';

export { type InputProblem, InvalidInputError, NotFoundError } from '../errors.js';

/** Why a ticket cannot be bought right now. */
export type TicketUnavailableReason = 'LOCKED' | 'HELD' | 'SOLD';

const MESSAGES: Record<TicketUnavailableReason, string> = {
  LOCKED: 'Another buyer is checking out this ticket right now.',
  HELD: 'This ticket is held by another buyer.',
  SOLD: 'This ticket has already been sold.',
};

/** An expected purchase failure: the ticket exists but is not for sale to this buyer now. */
export class TicketUnavailableError extends ExpectedError {
  constructor(
    readonly ticketId: string,
    readonly reason: TicketUnavailableReason,
    /** Known when the id came from a global id; lets the API echo the same global id back. */
    readonly eventId?: string,
  ) {
    super(MESSAGES[reason]);
    this.name = 'TicketUnavailableError';
  }
}

/** The NotFound for a ticket, keyed as the Ticket node is (`eventId/ticketId`). */
export function ticketNotFound(eventId: string, ticketId: string): NotFoundError {
  return new NotFoundError(ticketKey({ eventId, id: ticketId }), 'Ticket');
}

/** One seat of a multi-seat purchase that could not be had, and why. */
export interface UnavailableTicket {
  ticketId: string;
  eventId: string;
  reason: TicketUnavailableReason;
  /** The buyer a HELD or SOLD seat's mark names, when the lock said so. Internal: never sent to clients. */
  holder?: string | undefined;
}

/** All-or-nothing purchase refused: names every seat that was unavailable. Nothing was bought. */
export class TicketsUnavailableError extends ExpectedError {
  constructor(readonly tickets: UnavailableTicket[]) {
    super(`${tickets.length} of the requested tickets cannot be bought now; nothing was bought.`);
    this.name = 'TicketsUnavailableError';
  }
}

/** The sale has not opened yet. */
export class SaleNotOpenError extends ExpectedError {
  constructor(readonly opensAt: Date) {
    super(`The sale opens at ${opensAt.toISOString()}.`);
    this.name = 'SaleNotOpenError';
  }
}

/** The sale is over. */
export class SaleClosedError extends ExpectedError {
  constructor(readonly closedAt: Date) {
    super(`The sale closed at ${closedAt.toISOString()}.`);
    this.name = 'SaleClosedError';
  }
}

/** Why the sale window refuses a purchase at `now`, or undefined when it is open. */
export function saleWindowError(settings: SaleSettings, now: Date): SaleNotOpenError | SaleClosedError | undefined {
  const state = saleStateAt(settings, now);
  if (state.open) return undefined;
  return 'opensAt' in state ? new SaleNotOpenError(state.opensAt) : new SaleClosedError(state.closedAt);
}

/** This purchase would take the customer past the event's per-customer limit. */
export class PurchaseLimitReachedError extends ExpectedError {
  constructor(
    readonly limit: number,
    readonly held: number,
  ) {
    super(`You may hold at most ${limit} tickets for this event and already hold ${held}.`);
    this.name = 'PurchaseLimitReachedError';
  }
}

/** Fewer free seats match a best-available request than it asks for. Nothing was held. */
export class NotEnoughSeatsError extends ExpectedError {
  constructor(
    readonly requested: number,
    /** How many free seats match the request's sections and price (adjacent or not). */
    readonly available: number,
    /** Adjacent seats in one row were asked for. */
    readonly together: boolean,
  ) {
    super(
      together && available >= requested
        ? `${available} seats match, but not ${requested} next to each other in one row; nothing was held. Try together: false, or fewer seats.`
        : `Only ${available} free seats match; ${requested} were asked for and nothing was held.`,
    );
    this.name = 'NotEnoughSeatsError';
  }
}

/** Too many purchase attempts by one customer; try again after `retryAfterMs`. */
export class RateLimitedError extends ExpectedError {
  constructor(readonly retryAfterMs: number) {
    super(`Too many purchase attempts; try again in ${Math.ceil(retryAfterMs / 1000)} s.`);
    this.name = 'RateLimitedError';
  }
}

/** An order that cannot be cancelled by this caller now. */
export class OrderNotCancellableError extends ExpectedError {
  constructor(
    readonly orderId: string,
    message: string,
  ) {
    super(message);
    this.name = 'OrderNotCancellableError';
  }
}

/** A hold that is no longer ACTIVE, or is past its expiry: it can no longer be checked out. */
export class HoldExpiredError extends ExpectedError {
  constructor(
    readonly holdId: string,
    readonly expiredAt: Date,
    message = `This hold expired at ${expiredAt.toISOString()}; its seats went back on sale and nothing was bought.`,
  ) {
    super(message);
    this.name = 'HoldExpiredError';
  }
}

/** What an idempotency key already made: an order (purchases, checkout) or a hold. */
export interface KeyedResult {
  kind: 'order' | 'hold';
  id: string;
}

/**
 * An idempotency key came back with another request than the one it first made (other seats, or a
 * checkout of another hold). Nothing was bought or held; the key keeps naming its first result.
 */
export class IdempotencyKeyReusedError extends ExpectedError {
  constructor(
    readonly idempotencyKey: string,
    readonly earlier: KeyedResult,
  ) {
    const [made, refused] = earlier.kind === 'order' ? ['an order', 'bought'] : ['a hold', 'held'];
    super(
      `This idempotency key already made ${made} for another request; nothing was ${refused}. ` +
        'Send a new key with a new request.',
    );
    this.name = 'IdempotencyKeyReusedError';
  }
}

/**
 * The seat locks a request took were lost with Redis's data before its statement ran, and Postgres
 * refused to act on them (the marks epoch fence, sales/marks.ts). Not the buyer's doing, and nothing
 * was written: answered as the dependency's outage (SERVICE_UNAVAILABLE), so the client retries,
 * with the same idempotency key.
 */
export class LockLostError extends Error {
  constructor(eventId: string) {
    super(`the seat locks of this request for event ${eventId} were lost with Redis's data; nothing was written`);
    this.name = 'LockLostError';
  }
}
