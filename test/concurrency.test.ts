import { describe, expect } from 'vitest';
import { ticketLockKey } from '../src/infra/redis-ticket-lock.js';
import { SOLD_MARK } from '../src/infra/ticket-lock.js';
import { purchase } from './helpers/app.js';
import { createEventWithTickets } from './helpers/events.js';
import { test } from './helpers/fixtures.js';
import { expectSaleInvariants } from './helpers/invariants.js';
import { purchaseMany } from './helpers/sales.js';

/** Instance 0 for even attempts, instance 1 for odd ones. */
const it = test.extend('via', ({ pair: [first, second] }) => {
  return (i: number) => (i % 2 ? second : first);
});

// Real Postgres and Redis only: PGlite runs one query at a time, so a race on it proves nothing.
// Two app instances share one Redis key space and one database, as two servers behind a balancer.
describe('buyers racing for the same seats (two instances, real Postgres and Redis)', () => {
  it('gives the hot seat to exactly 1 of 200 simultaneous buyers; the 199 others get TicketUnavailable', async ({
    via,
    database,
  }) => {
    const { ticketGlobalIds } = await createEventWithTickets(via(0), { seats: 1 });
    const ticketId = ticketGlobalIds[0] as string;
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => purchase(via(i), `hot-${i}`, ticketId)));
    const winners = results.filter((r) => r.__typename === 'PurchaseTicketSuccess');
    const losers = results.filter((r) => r.__typename === 'TicketUnavailable');
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(199);
    for (const loser of losers) expect(['LOCKED', 'SOLD']).toContain(loser.reason);

    const orders = await database.sql<{ n: number }[]>`
      select count(*)::int as n from order_tickets ot join tickets t on t.id = ot.ticket_id
      where t.id = (select id from tickets where status = 'SOLD' limit 1)`;
    expect(orders[0]?.n).toBe(1);
    expect((await expectSaleInvariants(via(0).app.services.db)).soldTickets).toBe(1);
  });

  it('sells each of 100 seats at most once to 1,000 attempts from 100 customers, and orders match sales', async ({
    via,
  }) => {
    const { ticketGlobalIds } = await createEventWithTickets(via(0), { seats: 100 });
    const before = await expectSaleInvariants(via(0).app.services.db);
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        purchase(via(i), `rush-${i % 100}`, ticketGlobalIds[(i * 37) % ticketGlobalIds.length] as string),
      ),
    );
    const wins = results.filter((r) => r.__typename === 'PurchaseTicketSuccess');
    const soldIds = new Set(wins.flatMap((w) => w.order?.tickets.map((t) => t.id) ?? []));
    expect(soldIds.size).toBe(wins.length);
    const after = await expectSaleInvariants(via(0).app.services.db);
    expect(after.soldTickets - before.soldTickets).toBe(wins.length);
    expect(after.orders - before.orders).toBe(wins.length);
    // Every seat was tried 10 times; a seat left unsold would mean a lock was never released.
    expect(wins.length).toBe(100);
  });

  it('turns away LOCKED and SOLD buyers without a single statement reaching Postgres, and without a customer row', async ({
    pair: instances,
    via,
    database,
  }) => {
    const { eventId, ticketIds, ticketGlobalIds } = await createEventWithTickets(via(0), { seats: 2 });
    const [lockedId, soldId] = ticketGlobalIds as [string, string];
    const customersBefore = await database.sql<{ n: number }[]>`select count(*)::int as n from customers`;

    // A buyer mid-checkout holds the first seat's lock.
    const held = await via(0).app.backends.lock.acquire({ eventId, ticketId: ticketIds[0] as string });
    expect(held.acquired).toBe(true);
    // The second seat is sold; its lock became the sold mark.
    expect((await purchase(via(1), 'first-buyer', soldId)).__typename).toBe('PurchaseTicketSuccess');
    // Each instance reads an event's sale window once per SALE_SETTINGS_TTL_MS, not once per buyer:
    // a first look warms instance 0's cache before the count starts.
    expect((await purchase(via(0), 'warm-up', soldId)).reason).toBe('SOLD');

    const queriesBefore = instances.map((i) => i.queries());
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => purchase(via(i), `late-${i}`, i % 2 ? soldId : lockedId)),
    );
    expect(results.filter((r) => r.reason === 'LOCKED')).toHaveLength(50);
    expect(results.filter((r) => r.reason === 'SOLD')).toHaveLength(50);
    expect(instances.map((i) => i.queries())).toEqual(queriesBefore);

    // The counter does count: one winning purchase costs statements.
    if (held.acquired) await via(0).app.backends.lock.release(held.lease);
    expect((await purchase(via(0), 'patient', lockedId)).__typename).toBe('PurchaseTicketSuccess');
    expect(via(0).queries()).toBeGreaterThan(queriesBefore[0] as number);

    const customersAfter = await database.sql<{ n: number }[]>`select count(*)::int as n from customers`;
    expect((customersAfter[0]?.n ?? 0) - (customersBefore[0]?.n ?? 0)).toBe(2); // first-buyer and patient
    await expectSaleInvariants(via(0).app.services.db);
  });

  it('turns away keyed LOCKED and SOLD buyers without a statement too, yet answers a keyed retry with its order', async ({
    pair: instances,
    via,
    database,
    redis,
  }) => {
    const { eventId, ticketIds, ticketGlobalIds } = await createEventWithTickets(via(0), { seats: 2 });
    const [lockedId, soldId] = ticketGlobalIds as [string, string];
    const held = await via(0).app.backends.lock.acquire({ eventId, ticketId: ticketIds[0] as string });
    expect(held.acquired).toBe(true);
    const won = await purchaseMany(via(1), 'keyed-winner', [soldId], 'winner-key');
    expect(won.__typename).toBe('PurchaseTicketsSuccess');
    // As above: instance 0's sale-settings cache is warmed before the count (instance 1's by the sale).
    expect((await purchaseMany(via(0), 'warm-up', [soldId], 'warm-up-key')).__typename).toBe('TicketsUnavailable');

    const queriesBefore = instances.map((i) => i.queries());
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        purchaseMany(via(i), `keyed-late-${i}`, [i % 2 ? soldId : lockedId], `attempt-${i}`),
      ),
    );
    expect(results.filter((r) => r.tickets?.[0]?.reason === 'LOCKED')).toHaveLength(50);
    expect(results.filter((r) => r.tickets?.[0]?.reason === 'SOLD')).toHaveLength(50);
    expect(instances.map((i) => i.queries())).toEqual(queriesBefore);

    // The winner's retry with its key meets a sold mark that names it, and gets its order back.
    const retried = await purchaseMany(via(0), 'keyed-winner', [soldId], 'winner-key');
    expect(retried).toMatchObject({ __typename: 'PurchaseTicketsSuccess', order: { id: won.order?.id } });
    // So does a retry meeting a sold mark that names no buyer (as refusals wrote them before 2026-12-06).
    await redis.set(ticketLockKey(via(0).redisPrefix, { eventId, ticketId: ticketIds[1] as string }), SOLD_MARK);
    const afterFlush = await purchaseMany(via(1), 'keyed-winner', [soldId], 'winner-key');
    expect(afterFlush).toMatchObject({ __typename: 'PurchaseTicketsSuccess', order: { id: won.order?.id } });
    // Someone else's same key is a different purchase, refused as SOLD.
    expect((await purchaseMany(via(0), 'keyed-other', [soldId], 'winner-key')).tickets).toEqual([
      { ticketId: soldId, reason: 'SOLD' },
    ]);
    if (held.acquired) await via(0).app.backends.lock.release(held.lease);
    const [orders] = await database.sql<{ n: number }[]>`
      select count(*)::int as n from orders where idempotency_key = 'winner-key'`;
    expect(orders?.n).toBe(1);
    await expectSaleInvariants(via(0).app.services.db);
  });
});
