import { type ExpectedError, NotFoundError } from '../errors.js';
import {
  NotEnoughSeatsError,
  PurchaseLimitReachedError,
  SaleClosedError,
  SaleNotOpenError,
  TicketsUnavailableError,
  type TicketUnavailableReason,
} from './errors.js';

/**
 * A refusal as an idempotency key keeps it (in its Redis record, and in its tombstone's `refusal`
 * column), so every later attempt with the key is answered exactly that refusal.
 */
export type RefusalRecord =
  | {
      type: 'TicketsUnavailable';
      tickets: Array<{ ticketId: string; eventId: string; reason: TicketUnavailableReason }>;
    }
  | { type: 'NotFound'; id: string; typename: string }
  | { type: 'SaleNotOpen'; opensAt: string }
  | { type: 'SaleClosed'; closedAt: string }
  | { type: 'PurchaseLimitReached'; limit: number; held: number }
  | { type: 'NotEnoughSeats'; requested: number; available: number; together: boolean };

/**
 * The record of a refusal that a keyed purchase or hold can answer.
 *
 * @throws Error for any other failure: a refusal that could not be kept must not be answered as
 *   final, so the request fails instead (an unknown outcome, which the client retries).
 */
export function refusalRecord(error: ExpectedError): RefusalRecord {
  if (error instanceof TicketsUnavailableError)
    return {
      type: 'TicketsUnavailable',
      tickets: error.tickets.map(({ ticketId, eventId, reason }) => ({ ticketId, eventId, reason })),
    };
  if (error instanceof NotFoundError) return { type: 'NotFound', id: error.id, typename: error.typename };
  if (error instanceof SaleNotOpenError) return { type: 'SaleNotOpen', opensAt: error.opensAt.toISOString() };
  if (error instanceof SaleClosedError) return { type: 'SaleClosed', closedAt: error.closedAt.toISOString() };
  if (error instanceof PurchaseLimitReachedError)
    return { type: 'PurchaseLimitReached', limit: error.limit, held: error.held };
  if (error instanceof NotEnoughSeatsError)
    return {
      type: 'NotEnoughSeats',
      requested: error.requested,
      available: error.available,
      together: error.together,
    };
  throw new Error(`an idempotency key cannot keep the refusal ${error.name}`);
}

/**
 * The refusal a record keeps: `record` as {@link refusalRecord} made it, or as JSON text (Redis).
 *
 * @throws Error when it is not such a record.
 */
export function refusalOf(record: unknown): ExpectedError {
  const r = (typeof record === 'string' ? JSON.parse(record) : record) as RefusalRecord;
  switch (r?.type) {
    case 'TicketsUnavailable':
      return new TicketsUnavailableError(
        r.tickets.map(({ ticketId, eventId, reason }) => ({ ticketId, eventId, reason })),
      );
    case 'NotFound':
      return new NotFoundError(r.id, r.typename);
    case 'SaleNotOpen':
      return new SaleNotOpenError(new Date(r.opensAt));
    case 'SaleClosed':
      return new SaleClosedError(new Date(r.closedAt));
    case 'PurchaseLimitReached':
      return new PurchaseLimitReachedError(r.limit, r.held);
    case 'NotEnoughSeats':
      return new NotEnoughSeatsError(r.requested, r.available, r.together);
    default:
      throw new Error(`not a refusal record: ${JSON.stringify(record)}`);
  }
}
