/**
 * Seat marks after Redis lost them (sales/marks.ts): reloaded from Postgres with their buyers, then
 * vouched for, so a keyed loser refused LOCKED costs no statement again; and the fence that makes
 * that safe: a sale on a lock taken before the loss changes nothing once the reload has run.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { describe, expect } from 'vitest';
import { marksSinceKey, marksWholeKey, seatKey } from '../src/infra/redis-keys.js';
import { EPOCH_CACHE_MS } from '../src/sales/marks.js';
import { type TestApp, tokenFor } from './helpers/app.js';
import { createEventWithTickets } from './helpers/events.js';
import { integrationTest } from './helpers/fixtures.js';
import { hold } from './helpers/holds.js';
import { expectSaleInvariants } from './helpers/invariants.js';
import { pauseAfterLock } from './helpers/pause.js';
import { PURCHASE_MANY, purchaseMany } from './helpers/sales.js';

const LOCK_TTL_MS = 1000;
/** The first instance's hook: `pause.arm()` stops its next lock holder after its locks. */
const pause = pauseAfterLock();

const embedded = integrationTest({ kind: 'embedded' });
const it = integrationTest({
  pair: [
    {
      lockTtlMs: LOCK_TTL_MS,
      hooks: pause.hooks,
    },
    { lockTtlMs: LOCK_TTL_MS },
  ],
});

/** Redis loses every key of the event (as a flush or a restart without persistence would). */
async function loseEventKeys(redis: Redis, api: TestApp, eventId: string) {
  const keys = await redis.keys(`${api.redisPrefix}{ev:${eventId}}:*`);
  if (keys.length > 0) await redis.del(...keys);
  return keys.length;
}

/** Waits until `done` says so, for at most 10 s. */
async function until(done: () => Promise<boolean>) {
  const deadline = Date.now() + 10_000;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('not done within 10 s');
    await sleep(20);
  }
}

/** Waits until a reload has vouched for the event's current epoch; returns it. */
async function vouched(redis: Redis, api: TestApp, eventId: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const [since, whole] = await redis.mget(
      marksSinceKey(api.redisPrefix, eventId),
      marksWholeKey(api.redisPrefix, eventId),
    );
    if (since && since === whole) return since;
    await sleep(20);
  }
  throw new Error('the marks were not vouched for within 10 s');
}

describe('seat marks after a Redis loss', () => {
  it('are reloaded from Postgres naming their buyers, and a keyed loser refused LOCKED then costs no statement', async ({
    pair: [, api],
    database,
    redis,
  }) => {
    const { eventId, ticketIds, ticketGlobalIds: seats } = await createEventWithTickets(api, { seats: 6 });
    const [s0, s1, s2, s3, s4] = seats as [string, string, string, string, string];
    expect((await purchaseMany(api, 'ann', [s0], 'ann-1')).__typename).toBe('PurchaseTicketsSuccess');
    expect((await purchaseMany(api, 'bob', [s1])).__typename).toBe('PurchaseTicketsSuccess');
    expect((await hold(api, 'cy', [s2])).__typename).toBe('HoldSeatsSuccess');
    const key = (i: number) => seatKey(api.redisPrefix, eventId, ticketIds[i] as string);
    const someoneLocks = (i: number) => redis.set(key(i), 'another-buyers-token', 'PX', 60_000);

    expect(await loseEventKeys(redis, api, eventId)).toBeGreaterThan(3);
    // A seat locked by another buyer: before the reload, a keyed loser must ask Postgres whether its
    // key bought it (its own sold mark may be among the lost). Its question starts the reload.
    await someoneLocks(3);
    // And bob's sold seat locked by a buyer who will lose in Postgres (or by its winner, about to mark it).
    await someoneLocks(1);
    let queries = api.queries();
    const before = await purchaseMany(api, 'dan', [s3], 'dan-1');
    expect(before.tickets).toEqual([{ ticketId: s3, reason: 'LOCKED' }]);
    expect(api.queries()).toBeGreaterThan(queries);

    // The first round marks every other sold and held seat, but cannot vouch while bob's seat is locked.
    await until(async () => (await redis.get(key(0))) === 'sold:ann');
    await sleep(200);
    expect(await redis.get(marksWholeKey(api.redisPrefix, eventId))).toBeNull();
    expect(await redis.get(key(1))).toBe('another-buyers-token');
    // The doomed buyer is refused in Postgres and heals the mark, naming bob: a later round vouches.
    await redis.set(key(1), 'sold:bob', 'PX', 60_000);
    const epoch = await vouched(redis, api, eventId);
    expect(Number(epoch)).toBeGreaterThan(0);
    const [buyer] = await database.sql<{ customer_id: string }[]>`
      select o.customer_id from order_tickets ot join orders o on o.id = ot.order_id
      where ot.ticket_id = ${ticketIds[1] as string} and ot.released_at is null`;
    expect(buyer?.customer_id).toBe('bob');
    expect(await redis.mget(key(0), key(1), key(2), key(4))).toEqual(['sold:ann', 'sold:bob', 'held:cy', null]);
    expect(await redis.pttl(key(2))).toBeGreaterThan(0);
    expect(await redis.get(key(3))).toBe('another-buyers-token');
    const [event] = await database.sql<{ marks_epoch: string }[]>`
      select marks_epoch::text from events where id = ${eventId}`;
    expect(event?.marks_epoch).toBe(epoch);

    // Whole again: a keyed loser refused LOCKED answers from Redis alone, and so does a doomed buyer.
    await someoneLocks(4);
    queries = api.queries();
    const after = await purchaseMany(api, 'eve', [s4], 'eve-1');
    expect(after.tickets).toEqual([{ ticketId: s4, reason: 'LOCKED' }]);
    expect((await purchaseMany(api, 'fay', [s0], 'fay-1')).tickets).toEqual([{ ticketId: s0, reason: 'SOLD' }]);
    expect(api.queries()).toBe(queries);
    // ann's retry meets her own mark and is answered her order.
    expect((await purchaseMany(api, 'ann', [s0], 'ann-1')).__typename).toBe('PurchaseTicketsSuccess');
    await expectSaleInvariants(api.app.services.db);
  });

  it('a sale on a lock taken before the loss changes nothing once the reload has run, and its retry buys', async ({
    pair: [slow, healthy],
    database,
    redis,
  }) => {
    const { eventId, ticketIds, ticketGlobalIds: seats } = await createEventWithTickets(healthy, { seats: 2 });
    const [s0, s1] = seats as [string, string];
    // The slow instance takes the seat's lock under the event's first epoch, then stalls.
    const armed = pause.arm();
    const stalled = slow.gql<{ purchaseTickets: { __typename: string } }>(
      PURCHASE_MANY,
      { ticketIds: [s0], key: 'gus-1' },
      { token: await tokenFor('gus') },
    );
    await armed.reached;
    await loseEventKeys(redis, healthy, eventId);
    // Past every instance's cached epoch, a sale on the other instance finds the loss and starts the reload.
    await sleep(EPOCH_CACHE_MS + 50);
    expect((await purchaseMany(healthy, 'hal', [s1])).__typename).toBe('PurchaseTicketsSuccess');
    await vouched(redis, healthy, eventId);
    // The lost lock's seat is free for anyone now; the stalled sale must not take it behind their back.
    armed.release();
    const response = await stalled;
    expect(response.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    const [written] = await database.sql<{ status: string; orders: number }[]>`
      select (select status::text from tickets where id = ${ticketIds[0] as string}) as status,
        (select count(*)::int from orders where customer_id = 'gus') as orders`;
    expect(written).toEqual({ status: 'AVAILABLE', orders: 0 });

    // The client retries with its key, on a lock of the new epoch, and buys.
    const retry = await purchaseMany(healthy, 'gus', [s0], 'gus-1');
    expect(retry.__typename).toBe('PurchaseTicketsSuccess');
    expect(await redis.get(seatKey(healthy.redisPrefix, eventId, ticketIds[0] as string))).toBe('sold:gus');
    await expectSaleInvariants(healthy.app.services.db);
  });

  it('a reload waits for a transaction that wrote a ticket, and vouches only after it ends', async ({
    pair: [, api],
    database,
    redis,
  }) => {
    const { eventId, ticketIds, ticketGlobalIds: seats } = await createEventWithTickets(api, { seats: 3 });
    expect((await purchaseMany(api, 'ida', [seats[0] as string])).__typename).toBe('PurchaseTicketsSuccess');
    expect((await purchaseMany(api, 'kai', [seats[2] as string])).__typename).toBe('PurchaseTicketsSuccess');
    // A writer in flight: it holds the tickets table open to writes, as a sale mid-commit does.
    const reserved = await database.sql.reserve();
    await reserved`begin`;
    await reserved`update tickets set version = version where id = ${ticketIds[1] as string}`;
    await loseEventKeys(redis, api, eventId);
    await sleep(EPOCH_CACHE_MS + 50);
    // Starts the reload (a lease epoch read after the loss).
    await purchaseMany(api, 'jo', [seats[0] as string]);
    await sleep(EPOCH_CACHE_MS + 50 + 600);
    expect(await redis.get(marksWholeKey(api.redisPrefix, eventId))).toBeNull();
    // kai's seat, which nobody asked for since the loss, has no mark until a round gets through.
    expect(await redis.get(seatKey(api.redisPrefix, eventId, ticketIds[2] as string))).toBeNull();
    await reserved`commit`;
    reserved.release();
    await vouched(redis, api, eventId);
    expect(await redis.get(seatKey(api.redisPrefix, eventId, ticketIds[2] as string))).toBe('sold:kai');
  });

  it('an epoch Postgres has already fenced past (a Redis whose clock is behind) is moved on, not left refusing every sale', async ({
    pair: [, api],
    database,
    redis,
  }) => {
    const { eventId, ticketGlobalIds: seats } = await createEventWithTickets(api, { seats: 2 });
    const ahead = 4_000_000_000_000; // a fence raised by a Redis whose clock ran far ahead
    await database.sql`update events set marks_epoch = ${ahead} where id = ${eventId}`;
    await loseEventKeys(redis, api, eventId);
    await sleep(EPOCH_CACHE_MS + 50);
    // Stamped with this Redis's epoch, behind the fence: refused, and it starts the reload.
    const fenced = await api.gql(PURCHASE_MANY, { ticketIds: [seats[0]] }, { token: await tokenFor('kim') });
    expect(fenced.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    // The reload moves Redis past the fence; a later read starts the new epoch's reload.
    const deadline = Date.now() + 10_000;
    let epoch = '';
    while (Date.now() < deadline) {
      epoch = (await redis.get(marksSinceKey(api.redisPrefix, eventId))) ?? '';
      if (Number(epoch) > ahead) break;
      await sleep(20);
    }
    expect(Number(epoch)).toBe(ahead + 1);
    await sleep(EPOCH_CACHE_MS + 50);
    expect((await purchaseMany(api, 'kim', [seats[0] as string])).__typename).toBe('PurchaseTicketsSuccess');
    expect(await vouched(redis, api, eventId)).toBe(String(ahead + 1));
    await expectSaleInvariants(api.app.services.db);
  });

  it('a Redis restored with an old, vouched epoch behind the fence is moved past it, not left refusing every sale', async ({
    pair: [, api],
    database,
    redis,
  }) => {
    const { eventId, ticketGlobalIds: seats } = await createEventWithTickets(api, { seats: 2 });
    const fence = 3_000_000_000_000; // raised by a reload after a later loss than the snapshot's
    await database.sql`update events set marks_epoch = ${fence} where id = ${eventId}`;
    // The snapshot's records: the creation epoch, vouched for.
    await redis.mset(marksSinceKey(api.redisPrefix, eventId), '0', marksWholeKey(api.redisPrefix, eventId), '0');
    await sleep(EPOCH_CACHE_MS + 50);
    const fenced = await api.gql(PURCHASE_MANY, { ticketIds: [seats[0]] }, { token: await tokenFor('ned') });
    expect(fenced.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    // The refusal has Postgres asked: the fence moves up by one, and Redis to it, unvouched.
    await until(async () => (await redis.get(marksSinceKey(api.redisPrefix, eventId))) === String(fence + 1));
    const [event] = await database.sql<{ marks_epoch: string }[]>`
      select marks_epoch::text from events where id = ${eventId}`;
    expect(event?.marks_epoch).toBe(String(fence + 1));
    await sleep(EPOCH_CACHE_MS + 50);
    expect((await purchaseMany(api, 'ned', [seats[0] as string])).__typename).toBe('PurchaseTicketsSuccess');
    expect(await vouched(redis, api, eventId)).toBe(String(fence + 1));
    await expectSaleInvariants(api.app.services.db);
  });
});

describe('seat marks after the embedded process lost them (as a restart on a kept PGLITE_DATA_DIR would)', () => {
  embedded('are reloaded from PGlite the same way, and vouched for', async ({ api }) => {
    const { eventId, ticketIds, ticketGlobalIds: seats } = await createEventWithTickets(api, { seats: 3 });
    expect((await purchaseMany(api, 'lea', [seats[0] as string], 'lea-1')).__typename).toBe('PurchaseTicketsSuccess');
    const { lock } = api.app.backends;
    // The process's memory is the marks' only copy: as after a restart on a kept data directory.
    await lock.close();
    expect(await lock.marks(eventId)).toMatchObject({ whole: false });
    await sleep(EPOCH_CACHE_MS + 50);
    // A sale's epoch read finds the loss and starts the reload.
    expect((await purchaseMany(api, 'max', [seats[1] as string])).__typename).toBe('PurchaseTicketsSuccess');
    await until(async () => (await lock.marks(eventId)).whole);
    expect(await lock.acquire({ eventId, ticketId: ticketIds[0] as string })).toEqual({
      acquired: false,
      reason: 'SOLD',
      holder: 'lea',
    });
  });
});
