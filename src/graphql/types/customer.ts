import { resolveOffsetConnection } from '@pothos/plugin-relay';
import { ordersOfCustomer } from '../../catalog/orders.js';
import { builder } from '../builder.js';
import { DEFAULT_PAGE } from '../page-sizes.js';
import { CustomerRef, OrderRef } from './refs.js';

CustomerRef.implement({
  description: 'The signed-in buyer.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The `sub` of your token.' }),
    orders: t.connection({
      type: OrderRef,
      description: 'Your orders, newest first.',
      resolve: (customer, args, context) =>
        resolveOffsetConnection({ args, ...DEFAULT_PAGE }, (page) =>
          ordersOfCustomer(context.services.db, customer.id, page),
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
