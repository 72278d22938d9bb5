import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PURCHASE_STRATEGIES } from '../src/config.js';
import { decodeGlobalId } from '../src/graphql/global-id.js';
import { RateLimitedError } from '../src/sales/errors.js';
import type { PurchaseDeps } from '../src/sales/purchase.js';
import type { ChangedTicket } from '../src/sales/storage.js';
import { purchaseStrategies, selectPurchaseStrategy } from '../src/sales/strategies.js';
import { createTestEvent, purchase, startTestApp, type TestApp } from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { expectSaleInvariants } from './helpers/invariants.js';
import { createRuledEvent, purchaseMany } from './helpers/sales.js';

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

  it('tells onTicketChanged about the sale once, after the commit, and reports an unknown ticket as NotFound', async () => {
    const created = await createTestEvent(testApp.app, { seats: 1 });
    const ticketId = created.rawTicketIds[0] as string;
    const eventId = decodeGlobalId(created.eventId).id;
    const changes: ChangedTicket[] = [];
    const deps = { ...testApp.app.services.purchase, onTicketChanged: (t: ChangedTicket) => changes.push(t) };
    const buy = purchaseStrategies[strategy];
    const { db } = testApp.app.services;

    const order = await buy(db, deps, { eventId, ticketIds: [ticketId], customerId: `${strategy}-direct` });
    expect(order.customerId).toBe(`${strategy}-direct`);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ id: ticketId, status: 'SOLD' });
    const [row] = await database.sql<{ version: string }[]>`select version from tickets where id = ${ticketId}`;
    expect(Number(row?.version)).toBe(changes[0]?.version);

    await expect(
      buy(db, deps, { eventId, ticketIds: [ticketId], customerId: `${strategy}-late` }),
    ).rejects.toMatchObject({
      name: 'TicketsUnavailableError',
      tickets: [{ ticketId, reason: 'SOLD' }],
    });
    await expect(
      buy(db, deps, { eventId, ticketIds: [randomUUID()], customerId: `${strategy}-lost` }),
    ).rejects.toMatchObject({
      name: 'NotFoundError',
    });
    expect(changes).toHaveLength(1);
    await expectSaleInvariants(db);
  });
});

// The attempt budget sits in front of whichever strategy is selected: a spent budget refuses before
// the strategy runs (a strategy that ran would touch the database, which here does not exist).
describe.each(PURCHASE_STRATEGIES)('the attempt budget in front of %s', (strategy) => {
  it('refuses with RateLimited and never calls the strategy', async () => {
    const taken: string[] = [];
    const deps = {
      attempts: {
        take: async (customerId: string) => {
          taken.push(customerId);
          throw new RateLimitedError(1000);
        },
      },
    } as unknown as PurchaseDeps;
    const buy = selectPurchaseStrategy(strategy);
    const input = { eventId: randomUUID(), ticketIds: [randomUUID()], customerId: 'spent' };
    await expect(buy(undefined as never, deps, input)).rejects.toBeInstanceOf(RateLimitedError);
    expect(taken).toEqual(['spent']);
  });
});
