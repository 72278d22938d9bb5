/**
 * A keyed request's twin: the same idempotency key sent again while the first attempt is stalled (a
 * paused instance, a slow network), the way the fault drill's `stop` nemesis finds it. The stall is
 * made here without SIGSTOP: the first attempt waits on a Postgres lock the test holds, and a third
 * buyer's Redis lock on the seat (set by the test) makes the retry lose at once.
 *
 * The rule under test: once a refusal is answered for a key, no attempt with that key makes an order
 * or hold; and when the twin's order or hold committed first, the retry answers it instead.
 */
import type { Redis } from 'ioredis';
import type postgres from 'postgres';
import { describe, expect } from 'vitest';
import { seatKey } from '../src/infra/redis-keys.js';
import type { TestApp } from './helpers/app.js';
import { tokenFor } from './helpers/app.js';
import type { TestDatabase } from './helpers/database.js';
import { createEventWithTickets, type TestEvent } from './helpers/events.js';
import { integrationTest } from './helpers/fixtures.js';
import { HOLD, type HoldMember } from './helpers/holds.js';
import { expectSaleInvariants } from './helpers/invariants.js';
import { type ManyResult, purchaseMany } from './helpers/sales.js';

// A short lock TTL: a retry waits this long for its twin before it tries for itself.
const it = integrationTest({ app: { lockTtlMs: 400 } });

async function hold(api: TestApp, sub: string, ticketIds: string[], key: string): Promise<HoldMember> {
  const response = await api.gql<{ holdSeats: HoldMember }>(HOLD, { ticketIds, key }, { token: await tokenFor(sub) });
  if (response.errors || !response.data) throw new Error(`holdSeats failed: ${JSON.stringify(response.errors)}`);
  return response.data.holdSeats;
}

/** Waits until `count` backends of the test database wait for a lock (a statement stalled behind the test's). */
async function lockWaiters(database: TestDatabase, count: number, settled?: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const [row] = await database.sql<{ n: number }[]>`
      select count(*)::int as n from pg_stat_activity
      where datname = current_database() and wait_event_type = 'Lock'`;
    if ((row?.n ?? 0) >= count || settled?.()) return;
    if (Date.now() > deadline) throw new Error(`fewer than ${count} statements waited for a lock`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A transaction of the test's own that holds a lock until it is rolled back. */
async function blocking(database: TestDatabase, lock: (tx: postgres.ReservedSql) => Promise<unknown>) {
  const tx = await database.sql.reserve();
  await tx`begin`;
  await lock(tx);
  return async () => {
    await tx`rollback`;
    tx.release();
  };
}

/** Another buyer's request holds the seat's Redis lock (as after the stalled attempt's own lock expired). */
function lockedByAnotherBuyer(redis: Redis, api: TestApp, event: TestEvent, ticketId: string) {
  const key = seatKey(api.redisPrefix, event.eventId, ticketId);
  return {
    set: () => redis.set(key, 'another-buyers-token', 'PX', 60_000),
    clear: () => redis.del(key),
  };
}

/** Redis forgets an idempotency key (as a flush, a restart or the window passing would): its record and lease. */
async function forget(redis: Redis, api: TestApp, kind: 'purchase' | 'hold', customer: string, key: string) {
  const keys = await redis.keys(`${api.redisPrefix}*{idempotency:${kind}:${customer}:${key}}`);
  expect(keys.length).toBeGreaterThan(0);
  await redis.del(...keys);
}

/** What the database holds for a key: its orders and holds (tombstones are neither), and the seat. */
async function madeWithKey(database: TestDatabase, customer: string, key: string, ticketId: string) {
  const [row] = await database.sql<{ orders: number; holds: number; status: string; counted: number }[]>`
    select (select count(*)::int from orders where customer_id = ${customer} and idempotency_key = ${key}
              and status = 'CONFIRMED') as orders,
      (select count(*)::int from holds where customer_id = ${customer} and idempotency_key = ${key}
              and status <> 'RELEASED') as holds,
      (select status::text from tickets where id = ${ticketId}) as status,
      (select coalesce(sum(tickets), 0)::int from customer_event_tickets where customer_id = ${customer}) as counted`;
  return row;
}

describe('a retry and its stalled twin (Postgres and Redis)', () => {
  it('purchase: the retry is refused while its twin is stalled before Postgres; the twin then buys nothing and answers the same refusal', async ({
    api,
    database,
    redis,
  }) => {
    const event = await createEventWithTickets(api, { seats: 1 });
    const [ticketId] = event.ticketIds as [string];
    const [seat] = event.ticketGlobalIds as [string];
    const other = lockedByAnotherBuyer(redis, api, event, ticketId);
    // The first attempt takes the key's lease and the seat's lock, then stalls on the seat's row.
    const release = await blocking(database, (tx) => tx`select id from tickets where id = ${ticketId} for update`);
    let firstSettled = false;
    const first = purchaseMany(api, 'twin-buyer', [seat], 'buy-1').finally(() => {
      firstSettled = true;
    });
    await lockWaiters(database, 1);
    await other.set();

    const retry = await purchaseMany(api, 'twin-buyer', [seat], 'buy-1');
    expect(retry).toMatchObject({ __typename: 'TicketsUnavailable', tickets: [{ ticketId: seat, reason: 'LOCKED' }] });
    expect(firstSettled).toBe(false);

    // The other buyer lets go, and the stalled attempt goes on to Postgres with the seat free.
    await other.clear();
    await release();
    expect(await first).toEqual(retry);
    expect(await madeWithKey(database, 'twin-buyer', 'buy-1', ticketId)).toEqual({
      orders: 0,
      holds: 0,
      status: 'AVAILABLE',
      counted: 0,
    });
    // Later attempts with the key answer the same refusal, from Redis; and once Redis has forgotten
    // the key, from its tombstone in Postgres. The seat is still for sale to anyone else.
    expect(await purchaseMany(api, 'twin-buyer', [seat], 'buy-1')).toEqual(retry);
    await forget(redis, api, 'purchase', 'twin-buyer', 'buy-1');
    expect(await purchaseMany(api, 'twin-buyer', [seat], 'buy-1')).toEqual(retry);
    expect(await madeWithKey(database, 'twin-buyer', 'buy-1', ticketId)).toMatchObject({
      orders: 0,
      status: 'AVAILABLE',
    });
    expect((await purchaseMany(api, 'someone-else', [seat])).__typename).toBe('PurchaseTicketsSuccess');
    await expectSaleInvariants(api.app.services.db);
  });

  it('purchase: when the stalled twin commits first, the retry answers its order, not a refusal', async ({
    api,
    database,
    redis,
  }) => {
    const event = await createEventWithTickets(api, { seats: 1 });
    const [ticketId] = event.ticketIds as [string];
    const [seat] = event.ticketGlobalIds as [string];
    const other = lockedByAnotherBuyer(redis, api, event, ticketId);
    // The first attempt writes its order, then stalls creating its (new) customer, which the test is creating.
    const release = await blocking(database, (tx) => tx`insert into customers (id) values ('first-time-buyer')`);
    const first = purchaseMany(api, 'first-time-buyer', [seat], 'buy-2');
    await lockWaiters(database, 1);
    await other.set();

    let retrySettled = false;
    const retry = purchaseMany(api, 'first-time-buyer', [seat], 'buy-2').finally(() => {
      retrySettled = true;
    });
    // The retry loses the seat in Redis; before it answers, it must learn what its twin did.
    await lockWaiters(database, 2, () => retrySettled);
    await release();
    const made = await first;
    expect(made.__typename).toBe('PurchaseTicketsSuccess');
    expect(await retry).toEqual(made);
    await other.clear();
    expect(await madeWithKey(database, 'first-time-buyer', 'buy-2', ticketId)).toMatchObject({
      orders: 1,
      status: 'SOLD',
      counted: 1,
    });
    await expectSaleInvariants(api.app.services.db);
  });

  it('hold: the retry is refused while its twin is stalled before Postgres; the twin then holds nothing', async ({
    api,
    database,
    redis,
  }) => {
    const event = await createEventWithTickets(api, { seats: 1 });
    const [ticketId] = event.ticketIds as [string];
    const [seat] = event.ticketGlobalIds as [string];
    const other = lockedByAnotherBuyer(redis, api, event, ticketId);
    const release = await blocking(database, (tx) => tx`select id from tickets where id = ${ticketId} for update`);
    const first = hold(api, 'twin-holder', [seat], 'hold-1');
    await lockWaiters(database, 1);
    await other.set();

    const retry = await hold(api, 'twin-holder', [seat], 'hold-1');
    expect(retry).toMatchObject({ __typename: 'TicketsUnavailable', tickets: [{ ticketId: seat, reason: 'LOCKED' }] });
    await other.clear();
    await release();
    expect(await first).toEqual(retry);
    expect(await madeWithKey(database, 'twin-holder', 'hold-1', ticketId)).toEqual({
      orders: 0,
      holds: 0,
      status: 'AVAILABLE',
      counted: 0,
    });
    expect(await hold(api, 'twin-holder', [seat], 'hold-1')).toEqual(retry);
    await forget(redis, api, 'hold', 'twin-holder', 'hold-1');
    expect(await hold(api, 'twin-holder', [seat], 'hold-1')).toEqual(retry);
    expect(await madeWithKey(database, 'twin-holder', 'hold-1', ticketId)).toMatchObject({
      holds: 0,
      status: 'AVAILABLE',
    });
    await expectSaleInvariants(api.app.services.db);
  });

  it('purchase: after Redis lost the sold mark and the key record, a retry refused LOCKED answers the order', async ({
    api,
    database,
    redis,
  }) => {
    const event = await createEventWithTickets(api, { seats: 1 });
    const [ticketId] = event.ticketIds as [string];
    const [seat] = event.ticketGlobalIds as [string];
    const made = await purchaseMany(api, 'restart-buyer', [seat], 'buy-5');
    expect(made.__typename).toBe('PurchaseTicketsSuccess');
    // Redis restarts empty: the key's record, the seat's sold mark and the event's marks-since go.
    const lost = await redis.keys(`${api.redisPrefix}*`);
    expect(lost).toContain(seatKey(api.redisPrefix, event.eventId, ticketId));
    await redis.del(...lost);
    // Another buyer, who will lose in Postgres, holds the seat's lock when the client's retry arrives.
    const other = lockedByAnotherBuyer(redis, api, event, ticketId);
    await other.set();
    const before = api.queries();
    expect(await purchaseMany(api, 'restart-buyer', [seat], 'buy-5')).toEqual(made);
    expect(api.queries()).toBeGreaterThan(before);
    await other.clear();
    expect(await madeWithKey(database, 'restart-buyer', 'buy-5', ticketId)).toMatchObject({
      orders: 1,
      status: 'SOLD',
      counted: 1,
    });
    await expectSaleInvariants(api.app.services.db);
  });

  it('a twin that reaches the server only after its retry was refused answers that refusal, with no query', async ({
    api,
    database,
    redis,
  }) => {
    const event = await createEventWithTickets(api, { seats: 1 });
    const [ticketId] = event.ticketIds as [string];
    const [seat] = event.ticketGlobalIds as [string];
    const other = lockedByAnotherBuyer(redis, api, event, ticketId);
    await other.set();
    // Someone else's attempt reads the event's sale settings into the instance's cache first.
    expect((await purchaseMany(api, 'someone-else', [seat])).__typename).toBe('TicketsUnavailable');
    const before = api.queries();
    // The first attempt to arrive is an ordinary loser: refused by Redis alone.
    const refused: ManyResult = await purchaseMany(api, 'late-buyer', [seat], 'buy-3');
    expect(refused).toMatchObject({ __typename: 'TicketsUnavailable', tickets: [{ reason: 'LOCKED' }] });
    expect(api.queries()).toBe(before);
    await other.clear();

    // The attempt the client sent first was stuck in a paused instance; it arrives now, the seat free.
    expect(await purchaseMany(api, 'late-buyer', [seat], 'buy-3')).toEqual(refused);
    expect(api.queries()).toBe(before);
    expect(await madeWithKey(database, 'late-buyer', 'buy-3', ticketId)).toMatchObject({
      orders: 0,
      status: 'AVAILABLE',
    });
    // Purchase keys and hold keys are apart: the same string may still hold the seat.
    expect(await hold(api, 'late-buyer', [seat], 'buy-3')).toMatchObject({ __typename: 'HoldSeatsSuccess' });
    await expectSaleInvariants(api.app.services.db);
  });
});
