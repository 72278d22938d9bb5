import { parseTicketKey } from '../../catalog/ticket-key.js';
import type { HoldRow } from '../../db/schema.js';
import {
  HoldExpiredError,
  IdempotencyKeyReusedError,
  InvalidInputError,
  NotFoundError,
  PurchaseLimitReachedError,
  SaleClosedError,
  SaleNotOpenError,
  TicketsUnavailableError,
} from '../../sales/errors.js';
import { holdsOfCustomer } from '../../sales/hold-storage.js';
import { PURCHASE_LIMITS } from '../../sales/sale-request.js';
import { builder } from '../builder.js';
import { idCursor, resolveKeysetConnection } from '../keyset.js';
import { DEFAULT_PAGE } from '../page-sizes.js';
import { CustomerRef, EventRef, HoldRef, OrderRef, TicketRef } from './refs.js';
import { requireCustomer } from './viewer.js';

const HoldStatus = builder.enumType('HoldStatus', {
  values: {
    ACTIVE: { description: 'The seats are kept for you until expiresAt.' },
    CHECKED_OUT: { description: 'Bought: see order.' },
    RELEASED: { description: 'You let the seats go.' },
    EXPIRED: { description: 'Not checked out in time; the seats went back on sale.' },
  } as const,
});

builder.node(HoldRef, {
  description: 'Seats kept for one buyer while they pay. Only its buyer can see it.',
  id: { resolve: (hold) => hold.id },
  // The loader returns null for anyone else's hold, so `node(id:)` cannot leak one.
  loadOne: (id, context) => context.loaders.ownHold.load(id),
  fields: (t) => ({
    event: t.field({
      type: EventRef,
      resolve: async (hold, _args, context) => {
        const event = await context.loaders.event.load(hold.eventId);
        if (!event) throw new Error(`hold ${hold.id} has no event`);
        return event;
      },
    }),
    tickets: t.field({
      type: [TicketRef],
      description: 'The seats the hold was made of, with their current status.',
      resolve: (hold, _args, context) => context.loaders.ticketsOfHold.load(hold.id),
    }),
    totalCents: t.exposeInt('totalCents', { description: 'What checking out costs, in the smallest currency unit.' }),
    status: t.field({
      type: HoldStatus,
      description:
        'As stored. An ACTIVE hold whose expiresAt has passed is on its way to EXPIRED (within a second) and can no longer be checked out.',
      resolve: (hold) => hold.status,
    }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    expiresInSeconds: t.int({
      description:
        "Seconds left until expiresAt, by the server's clock, when this answer was made (0 once past). Count down from this, not from your own clock, which may be set differently.",
      resolve: (hold) =>
        hold.status === 'ACTIVE' ? Math.max(0, Math.ceil((hold.expiresAt.getTime() - Date.now()) / 1000)) : 0,
    }),
    order: t.field({
      type: OrderRef,
      nullable: true,
      description: 'The order its checkout made.',
      resolve: (hold, _args, context) => (hold.orderId ? context.loaders.ownOrder.load(hold.orderId) : null),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const HOLD_CURSOR = idCursor('Hold');

builder.objectField(CustomerRef, 'holds', (t) =>
  t.connection({
    type: HoldRef,
    description: 'Your holds, newest first; `status` picks one kind.',
    args: { status: t.arg({ type: HoldStatus }) },
    resolve: (customer, args, context) =>
      resolveKeysetConnection(
        { args, page: DEFAULT_PAGE, cursor: HOLD_CURSOR, keyOf: (hold: HoldRow) => hold.id },
        (page) => holdsOfCustomer(context.services.db, customer.id, page, args.status ?? undefined),
      ),
  }),
);

const idempotencyKey = (what: string, other: string) =>
  `Any string you choose (1–${PURCHASE_LIMITS.maxIdempotencyKeyLength} characters). Retrying with the same key returns the same ${what}; the same key with ${other} is IdempotencyKeyReused.`;

const HoldSeatsInput = builder.inputType('HoldSeatsInput', {
  fields: (t) => ({
    ticketIds: t.globalIDList({
      for: TicketRef,
      required: true,
      description: `1 to ${PURCHASE_LIMITS.maxSeats} seats of one event; you get all of them or none.`,
    }),
    idempotencyKey: t.string({ description: idempotencyKey('hold', 'other seats') }),
  }),
});

const CheckoutInput = builder.inputType('CheckoutInput', {
  fields: (t) => ({
    holdId: t.globalID({ for: HoldRef, required: true }),
    idempotencyKey: t.string({ description: idempotencyKey('order', 'another hold') }),
  }),
});

builder.mutationFields((t) => ({
  holdSeats: t.field({
    type: HoldRef,
    description:
      'Keep seats while you pay: all or none, until the hold expires (the event sets how long). Check out with `checkout`, or let them go with `releaseHold`. A seat another buyer holds is refused as HELD at once.',
    args: { input: t.arg({ type: HoldSeatsInput, required: true }) },
    errors: {
      types: [
        TicketsUnavailableError,
        SaleNotOpenError,
        SaleClosedError,
        PurchaseLimitReachedError,
        NotFoundError,
        InvalidInputError,
        IdempotencyKeyReusedError,
      ],
      union: { name: 'HoldSeatsResult', description: 'The hold, or why there is none.' },
      result: { name: 'HoldSeatsSuccess', description: 'The seats are kept for you until expiresAt.' },
      dataField: { name: 'hold' },
    },
    resolve: (_root, { input }, context) =>
      context.services.purchases.holdSeats({
        tickets: input.ticketIds.map((id) => parseTicketKey(id.id)),
        customerId: requireCustomer(context).customerId,
        idempotencyKey: input.idempotencyKey,
      }),
  }),
  checkout: t.field({
    type: OrderRef,
    description:
      'Buy the seats of your active hold. Past expiresAt the answer is HoldExpired and nothing is bought; a retry of a checkout that went through returns the same order.',
    args: { input: t.arg({ type: CheckoutInput, required: true }) },
    errors: {
      types: [HoldExpiredError, NotFoundError, IdempotencyKeyReusedError],
      union: { name: 'CheckoutResult', description: 'The order, or why there is none.' },
      result: { name: 'CheckoutSuccess', description: 'The seats are yours.' },
      dataField: { name: 'order' },
    },
    resolve: (_root, { input }, context) =>
      context.services.purchases.checkout({
        holdId: input.holdId.id,
        customerId: requireCustomer(context).customerId,
        idempotencyKey: input.idempotencyKey,
      }),
  }),
  releaseHold: t.field({
    type: HoldRef,
    description: 'Let the seats of your active hold go back on sale now. A hold no longer active is returned as it is.',
    args: { holdId: t.arg.globalID({ for: HoldRef, required: true }) },
    errors: {
      types: [NotFoundError],
      union: { name: 'ReleaseHoldResult' },
      result: { name: 'ReleaseHoldSuccess' },
      dataField: { name: 'hold' },
    },
    resolve: (_root, { holdId }, context) =>
      context.services.purchases.releaseHold({ holdId: holdId.id, customerId: requireCustomer(context).customerId }),
  }),
}));
