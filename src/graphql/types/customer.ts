import { ordersOfCustomer } from '../../catalog/orders.js';
import type { OrderRow } from '../../db/schema.js';
import { builder } from '../builder.js';
import { idCursor, resolveKeysetConnection } from '../keyset.js';
import { DEFAULT_PAGE } from '../page-sizes.js';
import { CustomerRef, OrderRef } from './refs.js';

const ORDER_CURSOR = idCursor('Order');

CustomerRef.implement({
  description: 'The signed-in buyer.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The `sub` of your token.' }),
    orders: t.connection({
      type: OrderRef,
      description: 'Your orders, newest first.',
      resolve: (customer, args, context) =>
        resolveKeysetConnection(
          { args, page: DEFAULT_PAGE, cursor: ORDER_CURSOR, keyOf: (order: OrderRow) => order.id },
          (page) => ordersOfCustomer(context.services.db, customer.id, page),
        ),
    }),
  }),
});

builder.queryField('me', (t) =>
  t.field({
    type: CustomerRef,
    nullable: true,
    description: 'You, when a valid token is sent; null when anonymous.',
    resolve: (_root, _args, context) => (context.viewer ? { id: context.viewer.customerId } : null),
  }),
);
