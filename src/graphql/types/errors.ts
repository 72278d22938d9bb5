import {
  HoldExpiredError,
  IdempotencyKeyReusedError,
  InvalidInputError,
  NotEnoughSeatsError,
  NotFoundError,
  OrderNotCancellableError,
  PurchaseLimitReachedError,
  SaleClosedError,
  SaleNotOpenError,
  TicketsUnavailableError,
  TicketUnavailableError,
  type UnavailableTicket,
} from '../../sales/errors.js';
import { builder } from '../builder.js';
import { encodeGlobalId, ticketGlobalId } from '../global-id.js';

/** Every expected failure implements it, so clients can always ask `... on Error { message }`. */
export const ErrorInterface = builder.interfaceRef<Error>('Error').implement({
  description: 'An expected failure, returned as data. Unexpected failures are GraphQL errors instead.',
  fields: (t) => ({
    message: t.exposeString('message', { description: 'What went wrong, for people.' }),
  }),
});

const TicketUnavailableReason = builder.enumType('TicketUnavailableReason', {
  description: 'Why a ticket cannot be bought right now.',
  values: {
    LOCKED: { description: 'Another buyer is checking it out this instant; it may become available again.' },
    HELD: { description: 'It is held for another buyer.' },
    SOLD: { description: 'It has been sold.' },
  } as const,
});

const globalTicketId = (ticket: { ticketId: string; eventId?: string | undefined }) =>
  ticket.eventId
    ? ticketGlobalId({ id: ticket.ticketId, eventId: ticket.eventId })
    : encodeGlobalId('Ticket', ticket.ticketId);

/** What every error member shares: it implements Error and is told apart by its class. */
const asError = (errorClass: abstract new (...args: never[]) => Error) => ({
  interfaces: [ErrorInterface] as [typeof ErrorInterface],
  isTypeOf: (value: unknown) => value instanceof errorClass,
});

builder.objectType(TicketUnavailableError, {
  name: 'TicketUnavailable',
  description: 'The ticket exists but cannot be bought by you now.',
  ...asError(TicketUnavailableError),
  fields: (t) => ({
    ticketId: t.id({ description: 'The ticket asked for.', resolve: globalTicketId }),
    reason: t.field({ type: TicketUnavailableReason, resolve: (error) => error.reason }),
  }),
});

const UnavailableTicketRef = builder.objectRef<UnavailableTicket>('UnavailableTicket').implement({
  description: 'One seat of a purchase that could not be had.',
  fields: (t) => ({
    ticketId: t.id({ resolve: globalTicketId }),
    reason: t.field({ type: TicketUnavailableReason, resolve: (ticket) => ticket.reason }),
  }),
});

builder.objectType(TicketsUnavailableError, {
  name: 'TicketsUnavailable',
  description: 'Some seats could not be had, so none were bought.',
  ...asError(TicketsUnavailableError),
  fields: (t) => ({
    tickets: t.field({
      type: [UnavailableTicketRef],
      description: 'Every requested seat that was unavailable, and why.',
      resolve: (error) => error.tickets,
    }),
  }),
});

builder.objectType(NotFoundError, {
  name: 'NotFound',
  description: 'The id is well formed but names nothing you can see.',
  ...asError(NotFoundError),
  fields: (t) => ({
    id: t.id({ description: 'The id asked for.', resolve: (error) => encodeGlobalId(error.typename, error.id) }),
  }),
});

builder.objectType(SaleNotOpenError, {
  name: 'SaleNotOpen',
  description: 'The sale has not opened yet. No lock was taken.',
  ...asError(SaleNotOpenError),
  fields: (t) => ({
    opensAt: t.field({ type: 'DateTime', resolve: (error) => error.opensAt }),
  }),
});

builder.objectType(SaleClosedError, {
  name: 'SaleClosed',
  description: 'The sale is over. No lock was taken.',
  ...asError(SaleClosedError),
  fields: (t) => ({
    closedAt: t.field({ type: 'DateTime', resolve: (error) => error.closedAt }),
  }),
});

builder.objectType(PurchaseLimitReachedError, {
  name: 'PurchaseLimitReached',
  description: "This purchase would take you past the event's per-customer limit. Nothing was bought.",
  ...asError(PurchaseLimitReachedError),
  fields: (t) => ({
    limit: t.int({ resolve: (error) => error.limit }),
    held: t.int({ description: 'Tickets you already hold for this event.', resolve: (error) => error.held }),
  }),
});

builder.objectType(NotEnoughSeatsError, {
  name: 'NotEnoughSeats',
  description:
    'Fewer free seats match than you asked for (or, with together, not that many side by side). Nothing was held.',
  ...asError(NotEnoughSeatsError),
  fields: (t) => ({
    requested: t.int({ resolve: (error) => error.requested }),
    available: t.int({
      description: 'Free seats that match your sections and price now, adjacent or not.',
      resolve: (error) => error.available,
    }),
  }),
});

builder.objectType(OrderNotCancellableError, {
  name: 'OrderNotCancellable',
  description: 'This order cannot be cancelled by you now.',
  ...asError(OrderNotCancellableError),
  fields: (t) => ({
    orderId: t.id({ resolve: (error) => encodeGlobalId('Order', error.orderId) }),
  }),
});

builder.objectType(HoldExpiredError, {
  name: 'HoldExpired',
  description:
    'The hold is no longer active (it expired or was released); its seats went back on sale and nothing was bought.',
  ...asError(HoldExpiredError),
  fields: (t) => ({
    holdId: t.id({ resolve: (error) => encodeGlobalId('Hold', error.holdId) }),
    expiredAt: t.field({ type: 'DateTime', resolve: (error) => error.expiredAt }),
  }),
});

builder.objectType(IdempotencyKeyReusedError, {
  name: 'IdempotencyKeyReused',
  description:
    'The idempotency key already made an order or hold for another request (other seats, or another hold). Nothing was bought or held: send a new key with a new request.',
  ...asError(IdempotencyKeyReusedError),
  fields: (t) => ({
    idempotencyKey: t.string({ description: 'The key sent.', resolve: (error) => error.idempotencyKey }),
    earlierId: t.id({
      description: 'The order (or, for holdSeats, the hold) the key made first; `node(id:)` reads it.',
      resolve: (error) => encodeGlobalId(error.earlier.kind === 'order' ? 'Order' : 'Hold', error.earlier.id),
    }),
  }),
});

const InputProblemRef = builder.objectRef<{ path: string; message: string }>('InputProblem').implement({
  description: 'One problem with an input field.',
  fields: (t) => ({
    path: t.exposeString('path', { description: 'Where, e.g. "sections.2.seatsPerRow".' }),
    message: t.exposeString('message'),
  }),
});

builder.objectType(InvalidInputError, {
  name: 'InvalidInput',
  description: 'The input breaks the rules; nothing was written.',
  ...asError(InvalidInputError),
  fields: (t) => ({
    problems: t.field({ type: [InputProblemRef], resolve: (error) => error.problems }),
  }),
});
