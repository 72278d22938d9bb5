import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RateLimitedError } from '../src/sales/errors.js';
import { createPurchaseService } from '../src/sales/purchase-service.js';

// The attempt budget sits in front of whichever strategy is selected: a spent budget refuses before
// the strategy runs (a strategy that ran would touch the database, which here does not exist).
describe('the purchase service', () => {
  it('takes the attempt budget before the strategy, and refuses with RateLimited without calling it', async () => {
    const taken: string[] = [];
    const sold: string[] = [];
    const purchases = createPurchaseService(undefined as never, {
      lock: undefined as never,
      keyAttempts: undefined as never,
      seatIndex: undefined as never,
      attempts: {
        take: async (customerId) => {
          taken.push(customerId);
          return 1000;
        },
      },
      sell: async (_db, request) => {
        sold.push(request.customerId);
        throw new Error('the strategy ran');
      },
      publish: () => {},
      onLockError: () => {},
      saleSettings: undefined as never,
      holdTtlMs: 60_000,
      inFlightWaitMs: 5000,
    });
    const ticket = { eventId: randomUUID(), ticketId: randomUUID() };
    await expect(purchases.purchaseTicket({ ticket, customerId: 'spent' })).rejects.toBeInstanceOf(RateLimitedError);
    expect(taken).toEqual(['spent']);
    expect(sold).toEqual([]);
  });

  it('applies the input rules before the budget: seat count, one event, key length; seats de-duplicated', async () => {
    const requests: string[][] = [];
    const purchases = createPurchaseService(undefined as never, {
      lock: undefined as never,
      keyAttempts: undefined as never,
      seatIndex: undefined as never,
      attempts: {
        take: async () => {
          requests.push([]);
          return 0;
        },
      },
      sell: async (_db, request) => {
        requests.push(request.ticketIds);
        throw new Error('stop here');
      },
      publish: () => {},
      onLockError: () => {},
      saleSettings: undefined as never,
      holdTtlMs: 60_000,
      inFlightWaitMs: 5000,
    });
    const eventId = randomUUID();
    const key = (ticketId: string, event = eventId) => ({ eventId: event, ticketId });
    await expect(purchases.purchaseTickets({ tickets: [], customerId: 'c' })).rejects.toMatchObject({
      name: 'BadRequestError',
    });
    const eleven = Array.from({ length: 11 }, () => key(randomUUID()));
    await expect(purchases.purchaseTickets({ tickets: eleven, customerId: 'c' })).rejects.toMatchObject({
      name: 'BadRequestError',
    });
    await expect(
      purchases.purchaseTickets({ tickets: [key('a'), key('b', randomUUID())], customerId: 'c' }),
    ).rejects.toMatchObject({ message: 'ticketIds must all belong to one event.' });
    await expect(
      purchases.purchaseTickets({ tickets: [key('a')], customerId: 'c', idempotencyKey: 'x'.repeat(201) }),
    ).rejects.toMatchObject({ name: 'BadRequestError' });
    expect(requests).toEqual([]);

    await expect(
      purchases.purchaseTickets({ tickets: [key('b'), key('a'), key('b')], customerId: 'c' }),
    ).rejects.toThrow('stop here');
    expect(requests).toEqual([[], ['a', 'b']]);
  });
});
