import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import { createSaleSettingsCache } from '../src/catalog/sale-settings.js';
import type { TicketChange } from '../src/catalog/ticket-change.js';
import { PURCHASE_STRATEGIES, type PurchaseStrategyName } from '../src/config.js';
import { contenders } from '../src/contenders/index.js';
import { createLockedSale } from '../src/sales/locked-sale.js';
import { createPurchaseService } from '../src/sales/purchase-service.js';
import type { SellSeats } from '../src/sales/settle.js';
import { purchase, type TestApp } from './helpers/app.js';
import { createEventWithTickets } from './helpers/events.js';
import { integrationTest } from './helpers/fixtures.js';
import { expectSaleInvariants } from './helpers/invariants.js';
import { purchaseMany } from './helpers/sales.js';

/** The way to sell a strategy names, over a test app's lock and database. */
function sellerOf(strategy: PurchaseStrategyName, api: TestApp): SellSeats {
  if (strategy !== 'redis-lock') return contenders[strategy];
  return createLockedSale({
    lock: api.app.backends.lock,
    keyAttempts: api.app.backends.keyAttempts,
    saleSettings: createSaleSettingsCache(api.app.services.db, 1000),
    inFlightWaitMs: 5000,
    onLockError: (error) => {
      throw error;
    },
  });
}

/** One app per strategy, each on a database of its own. */
const tests = Object.fromEntries(
  PURCHASE_STRATEGIES.map((strategy) => [strategy, integrationTest({ app: { env: { PURCHASE_STRATEGY: strategy } } })]),
) as Record<PurchaseStrategyName, ReturnType<typeof integrationTest>>;

// Every strategy the load test compares must be correct before its speed means anything.
// Real Postgres and Redis.
describe.each(PURCHASE_STRATEGIES)('purchase strategy %s', (strategy) => {
  const it = tests[strategy];

  it('sells the hot seat to exactly 1 of 100 simultaneous buyers through the API; the others get TicketUnavailable', async ({
    api,
    database,
  }) => {
    const { ticketIds, ticketGlobalIds } = await createEventWithTickets(api, { seats: 1 });
    const ticketId = ticketGlobalIds[0] as string;
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => purchase(api, `${strategy}-${i}`, ticketId)),
    );
    const winners = results.filter((r) => r.__typename === 'PurchaseTicketSuccess');
    const losers = results.filter((r) => r.__typename === 'TicketUnavailable');
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(99);
    for (const loser of losers) expect(['LOCKED', 'SOLD']).toContain(loser.reason);

    const [line] = await database.sql<{ n: number }[]>`
      select count(*)::int as n from order_tickets where ticket_id = ${ticketIds[0] as string}`;
    expect(line?.n).toBe(1);
    expect((await expectSaleInvariants(api.app.services.db)).soldTickets).toBe(1);
  });

  it('sells overlapping groups all or nothing, without deadlock, each seat at most once', async ({ api }) => {
    const { ticketGlobalIds } = await createEventWithTickets(api, { seats: 6 });
    // 40 buyers each want 3 adjacent seats of 6: four windows, all overlapping their neighbours.
    const windows = [0, 1, 2, 3].map((start) => ticketGlobalIds.slice(start, start + 3));
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        purchaseMany(api, `${strategy}-group-${i}`, [...(windows[i % 4] as string[])].reverse()),
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
    expect((await expectSaleInvariants(api.app.services.db)).soldTickets).toBeGreaterThanOrEqual(sold.length);
  });

  it('refuses a repeated idempotency key with other seats as IdempotencyKeyReused, and buys nothing', async ({
    api,
    database,
  }) => {
    const { ticketIds, ticketGlobalIds } = await createEventWithTickets(api, { seats: 2 });
    const first = await purchaseMany(api, `${strategy}-keyed`, [ticketGlobalIds[0] as string], 'key-1');
    expect(first.__typename).toBe('PurchaseTicketsSuccess');
    const again = await purchaseMany(api, `${strategy}-keyed`, [ticketGlobalIds[1] as string], 'key-1');
    expect(again.__typename).toBe('IdempotencyKeyReused');
    const [seat] = await database.sql<{ status: string }[]>`
      select status from tickets where id = ${ticketIds[1] as string}`;
    expect(seat?.status).toBe('AVAILABLE');
    await expectSaleInvariants(api.app.services.db);
  });

  it('publishes the sale once, after the commit, and reports an unknown ticket as NotFound', async ({
    api,
    database,
  }) => {
    const created = await createEventWithTickets(api, { seats: 1 });
    const ticket = { eventId: created.eventId, ticketId: created.ticketIds[0] as string };
    const changes: TicketChange[] = [];
    const { db } = api.app.services;
    const purchases = createPurchaseService(db, {
      lock: api.app.backends.lock,
      keyAttempts: api.app.backends.keyAttempts,
      seatIndex: api.app.backends.seatIndex,
      attempts: undefined,
      sell: sellerOf(strategy, api),
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
