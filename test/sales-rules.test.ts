import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import { ticketLockKey } from '../src/infra/redis-ticket-lock.js';
import { purchase, tokenFor } from './helpers/app.js';
import type { TestDatabase } from './helpers/database.js';
import { createEventWithTickets } from './helpers/events.js';
import { test } from './helpers/fixtures.js';
import { expectSaleInvariants } from './helpers/invariants.js';
import { lockRequests, saleChangeHeardBy } from './helpers/observers.js';
import { purchaseMany } from './helpers/sales.js';

/** Instance B for even attempts, A for odd ones. */
const it = test.extend('via', ({ pair: [a, b] }) => {
  return (i: number) => (i % 2 ? a : b);
});

const customerHolds = async (database: TestDatabase, customerId: string, eventId: string) => {
  const [row] = await database.sql<{ n: number }[]>`
    select count(*)::int as n from order_tickets ot join orders o on o.id = ot.order_id
    where o.customer_id = ${customerId} and o.event_id = ${eventId} and ot.released_at is null`;
  return row?.n ?? 0;
};

// Each rule under concurrency, through the API, on two instances sharing Postgres and Redis.
describe('sales rules under concurrency (two instances, real Postgres and Redis)', () => {
  it('overlapping multi-seat buyers never deadlock and never buy part of what they asked for', async ({
    pair: [a],
    via,
    database,
  }) => {
    const { eventId, ticketGlobalIds } = await createEventWithTickets(a, { seats: 40 });
    // 60 buyers each want 4 adjacent seats starting anywhere: their sets overlap heavily.
    const wants = Array.from({ length: 60 }, (_, i) => ticketGlobalIds.slice((i * 7) % 37, ((i * 7) % 37) + 4));
    const results = await Promise.all(wants.map((seats, i) => purchaseMany(via(i), `multi-${i}`, seats.reverse())));
    const wins = results.filter((r) => r.__typename === 'PurchaseTicketsSuccess');
    expect(wins.length).toBeGreaterThan(0);
    for (const [i, result] of results.entries()) {
      if (result.__typename === 'PurchaseTicketsSuccess') {
        expect(new Set(result.order?.tickets.map((t) => t.id))).toEqual(new Set(wants[i]));
      } else {
        expect(result.__typename).toBe('TicketsUnavailable');
        expect(result.tickets?.length).toBeGreaterThan(0);
        for (const t of result.tickets ?? []) expect(wants[i]).toContain(t.ticketId);
      }
    }
    await expectSaleInvariants(a.app.services.db);
    const [lines] = await database.sql<{ orders: number; lines: number }[]>`
      select count(distinct o.id)::int as orders, count(*)::int as lines
      from orders o join order_tickets ot on ot.order_id = o.id where o.event_id = ${eventId}`;
    expect(lines).toEqual({ orders: wins.length, lines: wins.length * 4 });
    // No lock is left behind by a refused buyer: every unsold seat can be bought now.
    const unsold = ticketGlobalIds.filter((id) => !wins.some((w) => w.order?.tickets.some((t) => t.id === id)));
    const leftovers = await Promise.all(unsold.map((id, i) => purchase(via(i), `leftover-${i}`, id)));
    expect(leftovers.every((r) => r.__typename === 'PurchaseTicketSuccess')).toBe(true);
  });

  it('one customer firing 20 purchases at 20 seats from two instances ends with exactly the limit of 4', async ({
    pair: [a],
    via,
    database,
  }) => {
    const { eventId, ticketGlobalIds } = await createEventWithTickets(a, { seats: 20, perCustomerLimit: 4 });
    const results = await Promise.all(ticketGlobalIds.map((id, i) => purchase(via(i), 'greedy', id)));
    expect(results.filter((r) => r.__typename === 'PurchaseTicketSuccess')).toHaveLength(4);
    const refused = results.filter((r) => r.__typename !== 'PurchaseTicketSuccess');
    expect(refused).toHaveLength(16);
    for (const r of refused) expect(r.__typename).toBe('PurchaseLimitReached');
    expect(await customerHolds(database, 'greedy', eventId)).toBe(4);
    const [counter] = await database.sql<{ tickets: number }[]>`
      select tickets from customer_event_tickets where customer_id = 'greedy' and event_id = ${eventId}`;
    expect(counter?.tickets).toBe(4);
    const won = new Set(results.flatMap((r) => r.order?.tickets.map((t) => t.id) ?? []));
    const more = await purchaseMany(a, 'greedy', ticketGlobalIds.filter((id) => !won.has(id)).slice(0, 2));
    expect(more).toMatchObject({ __typename: 'PurchaseLimitReached', limit: 4 });
    await expectSaleInvariants(a.app.services.db);
  });

  it('a limit refusal reports what the customer holds by then, and writes nothing, not even a customer row', async ({
    pair: [a, b],
    via,
    database,
  }) => {
    const { ticketGlobalIds } = await createEventWithTickets(a, { seats: 12, perCustomerLimit: 4 });
    const tooBig = await purchaseMany(b, 'too-big', ticketGlobalIds.slice(0, 5));
    expect(tooBig).toMatchObject({ __typename: 'PurchaseLimitReached', limit: 4, held: 0 });
    expect(await database.sql`select 1 from customers where id = 'too-big'`).toHaveLength(0);

    // Each refusal waited for (or followed) the purchases that filled the limit, so it sees all 4.
    const results = await Promise.all(ticketGlobalIds.map((id, i) => purchaseMany(via(i), 'racer', [id])));
    const refused = results.filter((r) => r.__typename !== 'PurchaseTicketsSuccess');
    expect(refused).toHaveLength(8);
    for (const r of refused) expect(r).toMatchObject({ __typename: 'PurchaseLimitReached', limit: 4, held: 4 });
    await expectSaleInvariants(a.app.services.db);
  });

  it('a retried idempotency key makes exactly one order, however the retries race', async ({
    pair: [a, b],
    via,
    database,
  }) => {
    const { ticketGlobalIds } = await createEventWithTickets(a, { seats: 3 });
    const seats = ticketGlobalIds.slice(0, 2);
    const racing = await Promise.all(
      Array.from({ length: 10 }, (_, i) => purchaseMany(via(i), 'retrier', seats, 'order-attempt-1')),
    );
    const orderIds = new Set(racing.map((r) => r.order?.id));
    expect(racing.every((r) => r.__typename === 'PurchaseTicketsSuccess')).toBe(true);
    expect(orderIds.size).toBe(1);
    const later = await purchaseMany(b, 'retrier', seats, 'order-attempt-1');
    expect(later.order?.id).toBe([...orderIds][0]);
    const [count] = await database.sql<{ n: number }[]>`
      select count(*)::int as n from orders where customer_id = 'retrier' and idempotency_key = 'order-attempt-1'`;
    expect(count?.n).toBe(1);
    // The key belongs to the customer: someone else's same key is a different purchase.
    const stranger = await purchaseMany(a, 'someone-else', seats, 'order-attempt-1');
    expect(stranger.__typename).toBe('TicketsUnavailable');
    await expectSaleInvariants(a.app.services.db);
  });

  it('a keyed buyer who loses a seat to someone else is refused at once, not after waiting for a twin', async ({
    pair: [a, b],
  }) => {
    const { eventId, ticketIds, ticketGlobalIds } = await createEventWithTickets(a, { seats: 1 });
    const seat = ticketGlobalIds[0] as string;
    const held = await a.app.backends.lock.acquire({ eventId, ticketId: ticketIds[0] as string });
    // B reads the event's sale window once (an unkeyed loser); after that a refusal costs it nothing.
    expect((await purchaseMany(b, 'warm-up', [seat])).tickets).toEqual([{ ticketId: seat, reason: 'LOCKED' }]);
    const statements = b.queries();
    const refused = await purchaseMany(b, 'keyed-loser', [seat], 'my-first-try');
    expect(refused.tickets).toEqual([{ ticketId: seat, reason: 'LOCKED' }]);
    // Only a twin with the same key is worth waiting for, and waiting means asking Postgres for the
    // twin's order every 25 ms, up to the lock TTL (5,000 ms here); so did it wait, B sent statements.
    expect(b.queries()).toBe(statements);
    if (held.acquired) await a.app.backends.lock.release(held.lease);
    // The refusal is the key's answer: the same key, on either instance, gets it again (it may be a
    // twin of the refused request, stalled until now), still with no query; a new key buys the seat.
    expect(await purchaseMany(a, 'keyed-loser', [seat], 'my-first-try')).toEqual(refused);
    expect(b.queries()).toBe(statements);
    expect((await purchaseMany(b, 'keyed-loser', [seat], 'my-second-try')).__typename).toBe('PurchaseTicketsSuccess');
    expect(b.queries()).toBeGreaterThan(statements); // the counter does count
  });

  it('cancel, then buy again: the seat comes back, its sold mark is cleared, and the limit is freed', async ({
    pair: [a, b],
    database,
    redis,
  }) => {
    const { eventId, ticketIds, ticketGlobalIds } = await createEventWithTickets(a, { seats: 2, perCustomerLimit: 1 });
    const bought = await purchase(a, 'canceller', ticketGlobalIds[0] as string);
    expect(bought.__typename).toBe('PurchaseTicketSuccess');
    expect((await purchase(b, 'canceller', ticketGlobalIds[1] as string)).__typename).toBe('PurchaseLimitReached');

    const stranger = await b.gql<{ cancelOrder: { __typename: string } }>(
      'mutation($id: ID!) { cancelOrder(orderId: $id) { __typename } }',
      { id: bought.order?.id },
      { token: await tokenFor('not-the-buyer') },
    );
    expect(stranger.data?.cancelOrder.__typename).toBe('NotFound');
    const cancelled = await b.gql<{
      cancelOrder: { __typename: string; order: { status: string; tickets: unknown[] } };
    }>(
      'mutation($id: ID!) { cancelOrder(orderId: $id) { __typename ... on CancelOrderSuccess { order { status tickets { id } } } } }',
      { id: bought.order?.id },
      { token: await tokenFor('canceller') },
    );
    expect(cancelled.data?.cancelOrder).toMatchObject({ order: { status: 'CANCELLED', tickets: [] } });
    expect(await redis.get(ticketLockKey(a.redisPrefix, { eventId, ticketId: ticketIds[0] as string }))).toBeNull();
    expect(await customerHolds(database, 'canceller', eventId)).toBe(0);

    expect((await purchase(a, 'second-chance', ticketGlobalIds[0] as string)).__typename).toBe('PurchaseTicketSuccess');
    expect((await purchase(b, 'canceller', ticketGlobalIds[1] as string)).__typename).toBe('PurchaseTicketSuccess');
    await expectSaleInvariants(a.app.services.db);
  });

  it('a refused buyer who read SOLD just before a cancel cannot hide the returned seat behind a sold mark', async ({
    pair: [a, b],
    redis,
  }) => {
    const { eventId, ticketIds, ticketGlobalIds } = await createEventWithTickets(a, { seats: 1 });
    const ticketId = ticketIds[0] as string;
    const key = ticketLockKey(a.redisPrefix, { eventId, ticketId });
    const bought = await purchase(a, 'owner', ticketGlobalIds[0] as string);
    expect(bought.__typename).toBe('PurchaseTicketSuccess');
    // Redis lost the sold mark, so a late buyer gets the lock, is refused by Postgres (SOLD) and is
    // about to heal the mark with its lease (settleRefusedLeases in sales/locked-sale.ts) when the owner cancels.
    await redis.del(key);
    const late = await b.app.backends.lock.acquire({ eventId, ticketId });
    if (!late.acquired) throw new Error('the late buyer should hold the lock');
    const cancelled = await a.gql<{ cancelOrder: { __typename: string } }>(
      'mutation($id: ID!) { cancelOrder(orderId: $id) { __typename } }',
      { id: bought.order?.id },
      { token: await tokenFor('owner') },
    );
    expect(cancelled.data?.cancelOrder.__typename).toBe('CancelOrderSuccess');

    expect(await b.app.backends.lock.markSold(late.lease)).toBe(false);
    expect(await redis.get(key)).toBeNull();
    expect((await purchase(b, 'next-in-line', ticketGlobalIds[0] as string)).__typename).toBe('PurchaseTicketSuccess');
    await expectSaleInvariants(a.app.services.db);
  });

  it('before the window opens and after it closes, buyers get SaleNotOpen and SaleClosed, and no lock is taken', async ({
    pair: [a, b],
  }) => {
    const opensAt = new Date(Date.now() + 1500);
    const { eventId, eventGlobalId, ticketIds, ticketGlobalIds } = await createEventWithTickets(a, {
      seats: 3,
      saleOpensAt: opensAt,
    });
    const askedA = lockRequests(a);
    const early = await purchaseMany(a, 'early-bird', [ticketGlobalIds[0] as string]);
    expect(early).toMatchObject({ __typename: 'SaleNotOpen', opensAt: opensAt.toISOString() });
    expect(askedA()).toEqual([]);

    await sleep(opensAt.getTime() - Date.now() + 20);
    expect((await purchase(a, 'early-bird', ticketGlobalIds[0] as string)).__typename).toBe('PurchaseTicketSuccess');
    expect(askedA()).toEqual([ticketIds[0]]); // the watch does see a lock asked for

    // Closing on instance A reaches instance B's cache at once: B has read the window as open, hears
    // the close, and refuses from the window it then reads, without asking its lock. (Were B's cache
    // stale, it would take the lock, and Postgres would refuse the sale as closed all the same.)
    const askedB = lockRequests(b);
    expect((await purchase(b, 'warm', ticketGlobalIds[2] as string)).__typename).toBe('PurchaseTicketSuccess');
    const closeHeardByB = await saleChangeHeardBy(b, eventId);
    const closed = await a.gql<{ closeSale: { event: { saleClosesAt: string; onSale: boolean } } }>(
      'mutation($id: ID!) { closeSale(eventId: $id) { ... on CloseSaleSuccess { event { saleClosesAt onSale } } } }',
      { id: eventGlobalId },
      { token: await tokenFor('boss', { role: 'organizer' }) },
    );
    expect(closed.data?.closeSale.event.onSale).toBe(false);
    await closeHeardByB();
    const late = await purchase(b, 'latecomer', ticketGlobalIds[1] as string);
    expect(late).toMatchObject({ __typename: 'SaleClosed' });
    expect(askedB()).toEqual([ticketIds[2]]);
    await expectSaleInvariants(a.app.services.db);
  });
});
