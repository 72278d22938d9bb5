import { parseTicketKey } from '../../catalog/ticket-key.js';
import { NotFoundError } from '../../errors.js';
import {
  IdempotencyKeyReusedError,
  PurchaseLimitReachedError,
  SaleClosedError,
  SaleNotOpenError,
  TicketsUnavailableError,
  TicketUnavailableError,
} from '../../sales/errors.js';
import { PURCHASE_LIMITS } from '../../sales/sale-request.js';
import { builder } from '../builder.js';
import { OrderRef, TicketRef } from './refs.js';
import { requireCustomer } from './viewer.js';

const saleRuleErrors = [
  NotFoundError,
  SaleNotOpenError,
  SaleClosedError,
  PurchaseLimitReachedError,
  IdempotencyKeyReusedError,
];

const idempotencyKeyDescription = `Any string you choose (1–${PURCHASE_LIMITS.maxIdempotencyKeyLength} characters). Retrying with the same key returns the same order; the same key with other seats is IdempotencyKeyReused.`;

const PurchaseTicketInput = builder.inputType('PurchaseTicketInput', {
  fields: (t) => ({
    ticketId: t.globalID({ for: TicketRef, required: true, description: 'The ticket to buy.' }),
    idempotencyKey: t.string({ description: idempotencyKeyDescription }),
  }),
});

builder.mutationField('purchaseTicket', (t) =>
  t.field({
    type: OrderRef,
    description:
      'Buy one ticket. If another buyer is checking it out, or it is sold, the answer is TicketUnavailable at once: do not retry in a loop.',
    args: { input: t.arg({ type: PurchaseTicketInput, required: true }) },
    errors: {
      types: [TicketUnavailableError, ...saleRuleErrors],
      union: { name: 'PurchaseTicketResult', description: 'The order, or why there is none.' },
      result: { name: 'PurchaseTicketSuccess', description: 'The ticket is yours.' },
      dataField: { name: 'order' },
    },
    resolve: (_root, { input }, context) =>
      context.services.purchases.purchaseTicket({
        ticket: parseTicketKey(input.ticketId.id),
        customerId: requireCustomer(context).customerId,
        idempotencyKey: input.idempotencyKey,
      }),
  }),
);

const PurchaseTicketsInput = builder.inputType('PurchaseTicketsInput', {
  fields: (t) => ({
    ticketIds: t.globalIDList({
      for: TicketRef,
      required: true,
      description: `1 to ${PURCHASE_LIMITS.maxSeats} tickets of one event; you get all of them or none.`,
    }),
    idempotencyKey: t.string({ description: idempotencyKeyDescription }),
  }),
});

builder.mutationField('purchaseTickets', (t) =>
  t.field({
    type: OrderRef,
    description:
      'Buy several seats of one event, all or none. If any seat is unavailable, TicketsUnavailable names each one and why, and nothing is bought.',
    args: { input: t.arg({ type: PurchaseTicketsInput, required: true }) },
    errors: {
      types: [TicketsUnavailableError, ...saleRuleErrors],
      union: { name: 'PurchaseTicketsResult', description: 'The order, or why there is none.' },
      result: { name: 'PurchaseTicketsSuccess', description: 'The seats are yours.' },
      dataField: { name: 'order' },
    },
    resolve: (_root, { input }, context) =>
      context.services.purchases.purchaseTickets({
        tickets: input.ticketIds.map((id) => parseTicketKey(id.id)),
        customerId: requireCustomer(context).customerId,
        idempotencyKey: input.idempotencyKey,
      }),
  }),
);
