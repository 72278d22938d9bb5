import { NotFoundError } from '../../errors.js';
import { OrderNotCancellableError } from '../../sales/errors.js';
import { builder } from '../builder.js';
import { EventRef, OrderRef, TicketRef } from './refs.js';
import { requireCustomer } from './viewer.js';

const OrderStatus = builder.enumType('OrderStatus', {
  values: {
    CONFIRMED: { description: 'Bought; the seats are yours.' },
    CANCELLED: { description: 'Cancelled; its seats went back on sale.' },
  } as const,
});

builder.node(OrderRef, {
  description: 'A completed purchase. Only its buyer can see it.',
  id: { resolve: (order) => order.id },
  // The loader returns null for anyone else's order, so `node(id:)` cannot leak one.
  loadOne: (id, context) => context.loaders.ownOrder.load(id),
  fields: (t) => ({
    tickets: t.field({
      type: [TicketRef],
      description: 'The seats of a confirmed order (none once it is cancelled).',
      resolve: (order, _args, context) => context.loaders.ticketsOfOrder.load(order.id),
    }),
    totalCents: t.exposeInt('totalCents', { description: 'What was paid, in the smallest currency unit.' }),
    status: t.field({ type: OrderStatus, resolve: (order) => order.status }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    cancelledAt: t.expose('cancelledAt', { type: 'DateTime', nullable: true }),
    event: t.field({
      type: EventRef,
      resolve: async (order, _args, context) => {
        const event = await context.loaders.event.load(order.eventId);
        if (!event) throw new Error(`order ${order.id} has no event`);
        return event;
      },
    }),
  }),
});

builder.mutationField('cancelOrder', (t) =>
  t.field({
    type: OrderRef,
    description:
      'Cancel an order and put its seats back on sale. Buyers may cancel their own until the event starts; organizers, any.',
    args: { orderId: t.arg.globalID({ for: OrderRef, required: true }) },
    errors: {
      types: [NotFoundError, OrderNotCancellableError],
      union: { name: 'CancelOrderResult' },
      result: { name: 'CancelOrderSuccess' },
      dataField: { name: 'order' },
    },
    resolve: (_root, { orderId }, context) => {
      const viewer = requireCustomer(context);
      return context.services.purchases.cancelOrder({ orderId: orderId.id, viewer });
    },
  }),
);
