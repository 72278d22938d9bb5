import type { TicketKey } from '../catalog/ticket-key.js';
import { BadRequestError } from '../errors.js';

/** The input limits of a purchase or a hold: the API, the service and the load test read them here. */
export const PURCHASE_LIMITS = {
  /** Most seats in one all-or-nothing purchase. */
  maxSeats: 10,
  /** An idempotency key is 1 to this many characters. */
  maxIdempotencyKeyLength: 200,
} as const;

/** One all-or-nothing sale of some seats of one event to one customer. */
export interface SaleRequest {
  eventId: string;
  /** Distinct, sorted: locks and rows are taken in this order, so overlapping sales cannot deadlock. */
  ticketIds: string[];
  customerId: string;
  idempotencyKey?: string | undefined;
  /**
   * The marks epoch the request's seat locks were taken under (TicketLock.leaseEpoch): the statement
   * changes nothing once the event's `marks_epoch` is newer (sales/marks.ts). Absent: taken behind no lock.
   */
  marksEpoch?: number | undefined;
}

/** What a buyer asks for, before the rules are applied. */
export interface SeatsInput {
  tickets: readonly TicketKey[];
  customerId: string;
  idempotencyKey?: string | null | undefined;
}

/**
 * Applies the input rules: 1 to {@link PURCHASE_LIMITS.maxSeats} seats of one event, a key of 1 to
 * {@link PURCHASE_LIMITS.maxIdempotencyKeyLength} characters; seats are de-duplicated and sorted.
 *
 * @throws BadRequestError naming the broken rule; nothing is written.
 */
export function saleRequest(input: SeatsInput): SaleRequest {
  const { maxSeats } = PURCHASE_LIMITS;
  const [first] = input.tickets;
  if (!first || input.tickets.length > maxSeats)
    throw new BadRequestError(`ticketIds must list 1 to ${maxSeats} tickets.`);
  if (input.tickets.some((key) => key.eventId !== first.eventId)) {
    throw new BadRequestError('ticketIds must all belong to one event.');
  }
  return {
    eventId: first.eventId,
    ticketIds: [...new Set(input.tickets.map((t) => t.ticketId))].sort(),
    customerId: input.customerId,
    idempotencyKey: idempotencyKey(input.idempotencyKey),
  };
}

/**
 * Checks a client-chosen retry key: absent, or 1 to {@link PURCHASE_LIMITS.maxIdempotencyKeyLength} characters.
 *
 * @throws BadRequestError
 */
export function idempotencyKey(key: string | null | undefined): string | undefined {
  const max = PURCHASE_LIMITS.maxIdempotencyKeyLength;
  if (key == null) return undefined;
  if (key.length < 1 || key.length > max) throw new BadRequestError(`idempotencyKey must be 1 to ${max} characters.`);
  return key;
}
