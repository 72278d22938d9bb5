import { GraphQLError } from 'graphql';
import { NotFoundError } from '../../errors.js';
import {
  PurchaseLimitReachedError,
  SaleClosedError,
  SaleNotOpenError,
  TicketsUnavailableError,
  TicketUnavailableError,
} from '../../sales/errors.js';
import { purchaseTicket } from '../../sales/purchase.js';
import { builder } from '../builder.js';
import { parseTicketKey } from '../global-id.js';
import { OrderRef, TicketRef } from './refs.js';
import { requireCustomer } from './viewer.js';

/** Most seats in one all-or-nothing purchase. */
export const MAX_SEATS_PER_PURCHASE = 10;

const badInput = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });

/** Checks a client-chosen retry key: 1–200 characters. */
function idempotencyKey(key: string | null | undefined): string | undefined {
  if (key == null) return undefined;
  if (key.length < 1 || key.length > 200) throw badInput('idempotencyKey must be 1 to 200 characters.');
  return key;
}

const saleRuleErrors = [NotFoundError, SaleNotOpenError, SaleClosedError, PurchaseLimitReachedError];

const PurchaseTicketInput = builder.inputType('PurchaseTicketInput', {
  fields: (t) => ({
    ticketId: t.globalID({ for: TicketRef, required: true, description: 'The ticket to buy.' }),
    idempotencyKey: t.string({
      description: 'Any string you choose (1–200 characters). Retrying with the same key returns the same order.',
    }),
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
    resolve: (_root, { input }, context) => {
      const { customerId } = requireCustomer(context);
      return purchaseTicket(
        context.services.db,
        context.services.purchase,
        { ...parseTicketKey(input.ticketId.id), customerId, idempotencyKey: idempotencyKey(input.idempotencyKey) },
        context.services.purchaseTickets,
      );
    },
  }),
);

const PurchaseTicketsInput = builder.inputType('PurchaseTicketsInput', {
  fields: (t) => ({
    ticketIds: t.globalIDList({
      for: TicketRef,
      required: true,
      description: `1 to ${MAX_SEATS_PER_PURCHASE} tickets of one event; you get all of them or none.`,
    }),
    idempotencyKey: t.string({
      description: 'Any string you choose (1–200 characters). Retrying with the same key returns the same order.',
    }),
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
    resolve: (_root, { input }, context) => {
      const { customerId } = requireCustomer(context);
      const keys = input.ticketIds.map((id) => parseTicketKey(id.id));
      const eventIds = new Set(keys.map((key) => key.eventId));
      if (keys.length < 1 || keys.length > MAX_SEATS_PER_PURCHASE) {
        throw badInput(`ticketIds must list 1 to ${MAX_SEATS_PER_PURCHASE} tickets.`);
      }
      if (eventIds.size !== 1) throw badInput('ticketIds must all belong to one event.');
      return context.services.purchaseTickets(context.services.db, context.services.purchase, {
        eventId: keys[0]?.eventId ?? '',
        ticketIds: keys.map((key) => key.ticketId),
        customerId,
        idempotencyKey: idempotencyKey(input.idempotencyKey),
      });
    },
  }),
);
