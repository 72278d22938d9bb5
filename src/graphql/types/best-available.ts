import {
  IdempotencyKeyReusedError,
  InvalidInputError,
  NotEnoughSeatsError,
  NotFoundError,
  PurchaseLimitReachedError,
  SaleClosedError,
  SaleNotOpenError,
} from '../../sales/errors.js';
import { PURCHASE_LIMITS } from '../../sales/sale-request.js';
import { builder } from '../builder.js';
import { EventRef, HoldRef } from './refs.js';
import { requireCustomer } from './viewer.js';

const HoldBestAvailableInput = builder.inputType('HoldBestAvailableInput', {
  fields: (t) => ({
    eventId: t.globalID({ for: EventRef, required: true }),
    quantity: t.int({ required: true, description: `How many seats, 1 to ${PURCHASE_LIMITS.maxSeats}.` }),
    sections: t.stringList({
      description:
        'Only these sections (by name, e.g. ["Lawn"]); omit for any. Order does not matter: the laid-out order decides.',
    }),
    maxPriceCents: t.int({ description: 'Only seats that cost at most this; omit for any price.' }),
    together: t.boolean({
      defaultValue: true,
      description: 'Adjacent seats in one row (in a general-admission section: any units of that section).',
    }),
    idempotencyKey: t.string({
      description: `Any string you choose (1–${PURCHASE_LIMITS.maxIdempotencyKeyLength} characters). Retrying with the same key returns the same hold; the same key with another event or quantity is IdempotencyKeyReused.`,
    }),
  }),
});

builder.mutationFields((t) => ({
  holdBestAvailable: t.field({
    type: HoldRef,
    description:
      'Hold the best N free seats, chosen by the server: sections in their laid-out order, then front rows, then the seats nearest the middle of the row (with together, N adjacent seats in one row). A general-admission section gives any N free units. The hold works like holdSeats: check out with `checkout` before it expires.',
    args: { input: t.arg({ type: HoldBestAvailableInput, required: true }) },
    errors: {
      types: [
        NotEnoughSeatsError,
        SaleNotOpenError,
        SaleClosedError,
        PurchaseLimitReachedError,
        NotFoundError,
        InvalidInputError,
        IdempotencyKeyReusedError,
      ],
      union: { name: 'HoldBestAvailableResult', description: 'The hold, or why there is none.' },
      result: { name: 'HoldBestAvailableSuccess', description: 'The seats are kept for you until expiresAt.' },
      dataField: { name: 'hold' },
    },
    resolve: (_root, { input }, context) =>
      context.services.purchases.holdBestAvailable({
        eventId: input.eventId.id,
        customerId: requireCustomer(context).customerId,
        quantity: input.quantity,
        sections: input.sections,
        maxPriceCents: input.maxPriceCents,
        together: input.together,
        idempotencyKey: input.idempotencyKey,
      }),
  }),
}));
