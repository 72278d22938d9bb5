import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSaleSettingsCache } from '../src/catalog/sale-settings.js';
import type { TicketChange } from '../src/catalog/ticket-change.js';
import { PURCHASE_STRATEGIES, type PurchaseStrategyName } from '../src/config.js';
import { contenders } from '../src/contenders/index.js';
import { decodeGlobalId } from '../src/graphql/global-id.js';
import { RateLimitedError } from '../src/sales/errors.js';
import { createLockedSale } from '../src/sales/locked-sale.js';
import { createPurchaseService } from '../src/sales/purchase-service.js';
import type { SellSeats } from '../src/sales/settle.js';
import { createTestEvent, purchase, startTestApp, type TestApp } from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { expectSaleInvariants } from './helpers/invariants.js';
import { createRuledEvent, purchaseMany } from './helpers/sales.js';

/** The way to sell a strategy names, over a test app's lock and database. */
function sellerOf(strategy: PurchaseStrategyName, testApp: TestApp): SellSeats {
  if (strategy !== 'redis-lock') return contenders[strategy];
  return createLockedSale({
    lock: testApp.app.backends.lock,
    saleSettings: createSaleSettingsCache(testApp.app.services.db, 1000),
    inFlightWaitMs: 5000,
    onLockError: (error) => {
      throw error;
    },
  });
}

// Every strategy the load test compares must be correct before its speed means anything.
// Real Postgres and Redis; one app per strategy on one shared database.
describe.each(PURCHASE_STRATEGIES)('purchase strategy %s', (strategy) => {
  let database: TestDatabase;
  let testApp: TestApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    testApp = await startTestApp({
      kind: 'real',
      databaseUrl: database.url,
      env: { PURCHASE_STRATEGY: strategy },
    });
  });
  afterAll(async () => {
    await testApp?.stop();
    await database?.drop();
  });

  it('sells the hot seat to exactly 1 of 100 simultaneous buyers through the API; the others get TicketUnavailable', async () => {
    const { ticketIds, rawTicketIds } = await createTestEvent(testApp.app, { seats: 1 });
    const ticketId = ticketIds[0] as string;
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => purchase(testApp, `${strategy}-${i}`, ticketId)),
    );
    const winners = results.filter((r) => r.__typename === 'PurchaseTicketSuccess');
    const losers = results.filter((r) => r.__typename === 'TicketUnavailable');
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(99);
    for (const loser of losers) expect(['LOCKED', 'SOLD']).toContain(loser.reason);

    const [line] = await database.sql<{ n: number }[]>`
      select count(*)::int as n from order_tickets where ticket_id = ${rawTicketIds[0] as string}`;
    expect(line?.n).toBe(1);
    expect((await expectSaleInvariants(testApp.app.services.db)).soldTickets).toBe(1);
  });

  it('sells overlapping groups all or nothing, without deadlock, each seat at most once', async () => {
    const { ticketIds } = await createRuledEvent(testApp, { seats: 6 });
    // 40 buyers each want 3 adjacent seats of 6: four windows, all overlapping their neighbours.
    const windows = [0, 1, 2, 3].map((start) => ticketIds.slice(start, start + 3));
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        purchaseMany(testApp, `${strategy}-group-${i}`, [...(windows[i % 4] as string[])].reverse()),
      ),
    );
    const wins = results.filter((r) => r.__typename === 'PurchaseTicketsSuccess');
    expect(wins.length).toBeGreaterThanOrEqual(1);
    expect(wins.length).toBeLessThanOrEqual(2); // two disjoint windows at most: 0-2 and 3-5
    for (const loss of results.filter((r) => r.__typename !== 'PurchaseTicketsSuccess')) {
      expect(loss.__typename).toBe('TicketsUnavailable');
      expect(loss.tickets?.length).toBeGreaterThanOrEqual(1);
    }
    const sold = wins.flatMap((win) => win.order?.tickets.map((t) => t.id) ?? []);
    expect(new Set(sold).size).toBe(sold.length);
    for (const win of wins) expect(win.order?.tickets).toHaveLength(3);
    expect((await expectSaleInvariants(testApp.app.services.db)).soldTickets).toBeGreaterThanOrEqual(sold.length);
  });

  it('answers a repeated idempotency key with the first order, even for other seats', async () => {
    const { ticketIds } = await createRuledEvent(testApp, { seats: 2 });
    const first = await purchaseMany(testApp, `${strategy}-keyed`, [ticketIds[0] as string], 'key-1');
    expect(first.__typename).toBe('PurchaseTicketsSuccess');
    const again = await purchaseMany(testApp, `${strategy}-keyed`, [ticketIds[1] as string], 'key-1');
    expect(again).toMatchObject({ __typename: 'PurchaseTicketsSuccess', order: { id: first.order?.id } });
    await expectSaleInvariants(testApp.app.services.db);
  });

  it('publishes the sale once, after the commit, and reports an unknown ticket as NotFound', async () => {
    const created = await createTestEvent(testApp.app, { seats: 1 });
    const ticket = { eventId: decodeGlobalId(created.eventId).id, ticketId: created.rawTicketIds[0] as string };
    const changes: TicketChange[] = [];
    const { db } = testApp.app.services;
    const purchases = createPurchaseService(db, {
      lock: testApp.app.backends.lock,
      attempts: undefined,
      sell: sellerOf(strategy, testApp),
      publish: (_eventId, changed) => changes.push(...changed),
      onLockError: () => {},
      saleSettings: createSaleSettingsCache(db, 1000),
      holdTtlMs: 60_000,
      inFlightWaitMs: 5000,
    });

    const order = await purchases.purchaseTickets({ tickets: [ticket], customerId: `${strategy}-direct` });
    expect(order.customerId).toBe(`${strategy}-direct`);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ id: ticket.ticketId, eventId: ticket.eventId, status: 'SOLD' });
    const [row] = await database.sql<{ version: string }[]>`select version from tickets where id = ${ticket.ticketId}`;
    expect(Number(row?.version)).toBe(changes[0]?.version);

    await expect(
      purchases.purchaseTickets({ tickets: [ticket], customerId: `${strategy}-late` }),
    ).rejects.toMatchObject({
      name: 'TicketsUnavailableError',
      tickets: [{ ticketId: ticket.ticketId, reason: 'SOLD' }],
    });
    await expect(
      purchases.purchaseTicket({ ticket: { ...ticket, ticketId: randomUUID() }, customerId: `${strategy}-lost` }),
    ).rejects.toMatchObject({ name: 'NotFoundError' });
    expect(changes).toHaveLength(1);
    await expectSaleInvariants(db);
  });
});

// The attempt budget sits in front of whichever strategy is selected: a spent budget refuses before
// the strategy runs (a strategy that ran would touch the database, which here does not exist).
describe('the purchase service', () => {
  it('takes the attempt budget before the strategy, and refuses with RateLimited without calling it', async () => {
    const taken: string[] = [];
    const sold: string[] = [];
    const purchases = createPurchaseService(undefined as never, {
      lock: undefined as never,
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
