import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PURCHASE_STRATEGIES } from '../src/config.js';
import { decodeGlobalId } from '../src/graphql/global-id.js';
import type { ChangedTicket } from '../src/sales/storage.js';
import { purchaseStrategies } from '../src/sales/strategies.js';
import { createTestEvent, purchase, startTestApp, type TestApp } from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { expectSaleInvariants } from './helpers/invariants.js';

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

  it('tells onTicketChanged about the sale once, after the commit, and reports an unknown ticket as NotFound', async () => {
    const created = await createTestEvent(testApp.app, { seats: 1 });
    const ticketId = created.rawTicketIds[0] as string;
    const eventId = decodeGlobalId(created.eventId).id;
    const changes: ChangedTicket[] = [];
    const deps = { ...testApp.app.services.purchase, onTicketChanged: (t: ChangedTicket) => changes.push(t) };
    const buy = purchaseStrategies[strategy];
    const { db } = testApp.app.services;

    const order = await buy(db, deps, { eventId, ticketId, customerId: `${strategy}-direct` });
    expect(order.customerId).toBe(`${strategy}-direct`);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ id: ticketId, status: 'SOLD' });
    const [row] = await database.sql<{ version: string }[]>`select version from tickets where id = ${ticketId}`;
    expect(Number(row?.version)).toBe(changes[0]?.version);

    await expect(buy(db, deps, { eventId, ticketId, customerId: `${strategy}-late` })).rejects.toMatchObject({
      name: 'TicketUnavailableError',
      reason: 'SOLD',
    });
    await expect(
      buy(db, deps, { eventId, ticketId: randomUUID(), customerId: `${strategy}-lost` }),
    ).rejects.toMatchObject({
      name: 'NotFoundError',
    });
    expect(changes).toHaveLength(1);
    await expectSaleInvariants(db);
  });
});
