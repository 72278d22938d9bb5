/**
 * An event's seat marks (TicketLock.openMarks / marks / restoreMarks): how long they have been
 * complete, what lets a keyed loser refused LOCKED answer with no query, and what sends it to
 * Postgres after Redis lost the marks (sales/idempotency.ts) until a reload vouches for them again
 * (sales/marks.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import { createMemoryTicketLock } from '../src/infra/memory-ticket-lock.js';
import { marksSinceKey, seatKey } from '../src/infra/redis-keys.js';
import { createRedisTicketLock } from '../src/infra/redis-ticket-lock.js';
import { uniqueRedisPrefix } from './helpers/app.js';
import { test as it } from './helpers/fixtures.js';

const TIMINGS = { lockTtlMs: 1000, soldMarkTtlMs: 60_000 };
const SOLD = { ticketId: 't1', status: 'SOLD', buyer: 'ann' } as const;
const HELD = { ticketId: 't2', status: 'HELD', buyer: 'bob', ttlMs: 30_000 } as const;
const LOCKED = { ticketId: 't3', status: 'SOLD', buyer: 'cy' } as const;

describe('an event’s marks kept', () => {
  it('Redis: an opened event counts from its creation; a lost record starts a new epoch, by Redis’s clock', async ({
    redis,
  }) => {
    const prefix = uniqueRedisPrefix();
    const lock = createRedisTicketLock(redis, prefix, TIMINGS);
    await lock.openMarks('opened');
    // Complete since creation: as long as any sold mark lives.
    expect(await lock.marks('opened')).toEqual({ epoch: 0, whole: true, keptMs: TIMINGS.soldMarkTtlMs });
    expect(await lock.leaseEpoch('opened')).toBe(0);
    // Never opened (created before the marks existed, or opening failed): the count starts now.
    const unopened = await lock.marks('unopened');
    expect(unopened).toMatchObject({ whole: false, keptMs: 0 });
    expect(unopened.epoch).toBeGreaterThan(Date.now() - 60_000);
    await sleep(120);
    const later = await lock.marks('unopened');
    expect(later.epoch).toBe(unopened.epoch);
    expect(later.keptMs).toBeGreaterThanOrEqual(100);
    expect(later.keptMs).toBeLessThan(TIMINGS.soldMarkTtlMs);
    // Redis loses the event's keys (a flush, a restart): the next reader starts a new epoch.
    await redis.del(marksSinceKey(prefix, 'opened'));
    const lost = await lock.marks('opened');
    expect(lost).toMatchObject({ whole: false, keptMs: 0 });
    expect(lost.epoch).toBeGreaterThan(0);
    // Opening again does not pretend the marks are complete: the record is there, and stays.
    await lock.openMarks('opened');
    expect(await lock.marks('opened')).toMatchObject({ epoch: lost.epoch, whole: false });
    // The record lasts as long as a sold mark would.
    expect(await redis.pttl(marksSinceKey(prefix, 'opened'))).toBeGreaterThan(TIMINGS.soldMarkTtlMs - 5000);
  });

  it('Redis: restored marks name their buyers, leave a request’s lock alone, and vouch only with none pending', async ({
    redis,
  }) => {
    const prefix = uniqueRedisPrefix();
    const lock = createRedisTicketLock(redis, prefix, TIMINGS);
    const { epoch } = await lock.marks('ev');
    const key = (ticketId: string) => seatKey(prefix, 'ev', ticketId);
    await redis.set(key('t3'), 'a-doomed-buyers-token', 'PX', 60_000);
    await redis.set(key('t1'), 'sold', 'PX', 60_000); // healed without a buyer: overwritten
    // Another epoch's reload writes nothing.
    expect(await lock.restoreMarks('ev', epoch + 1, [SOLD, HELD], true)).toEqual({ lost: true });
    expect(await redis.get(key('t2'))).toBeNull();

    expect(await lock.restoreMarks('ev', epoch, [SOLD, HELD, LOCKED], true)).toEqual({
      lost: false,
      pending: ['t3'],
      vouched: false,
    });
    expect(await redis.get(key('t1'))).toBe('sold:ann');
    expect(await redis.get(key('t2'))).toBe('held:bob');
    expect(await redis.pttl(key('t2'))).toBeLessThanOrEqual(30_000);
    expect(await redis.pttl(key('t2'))).toBeGreaterThan(25_000);
    expect(await redis.get(key('t3'))).toBe('a-doomed-buyers-token');
    expect(await lock.marks('ev')).toMatchObject({ epoch, whole: false });

    // The doomed buyer healed the mark (its refusal named the buyer): the next round vouches.
    await redis.set(key('t3'), 'sold:cy', 'PX', 60_000);
    expect(await lock.restoreMarks('ev', epoch, [SOLD, HELD, LOCKED], true)).toEqual({
      lost: false,
      pending: [],
      vouched: true,
    });
    expect(await lock.marks('ev')).toEqual({ epoch, whole: true, keptMs: TIMINGS.soldMarkTtlMs });
    // Moving on from an epoch it no longer has does nothing; from the current one, unvouched.
    expect(await lock.advanceEpoch('ev', epoch + 1, epoch + 5)).toBe(false);
    expect(await lock.advanceEpoch('ev', epoch, epoch + 5)).toBe(true);
    expect(await lock.marks('ev')).toMatchObject({ epoch: epoch + 5, whole: false });
    // Lost again: the vouch was for the old epoch only.
    await redis.del(marksSinceKey(prefix, 'ev'));
    expect(await lock.marks('ev')).toMatchObject({ whole: false, keptMs: 0 });
  });

  it('Redis: a reload of many seats writes them in chunks, names a locked seat in any chunk, and vouches once', async ({
    redis,
  }) => {
    const prefix = uniqueRedisPrefix();
    const lock = createRedisTicketLock(redis, prefix, TIMINGS);
    const { epoch } = await lock.marks('big');
    const seats = Array.from(
      { length: 1234 },
      (_, i) => ({ ticketId: `s${i}`, status: 'SOLD', buyer: `b${i}` }) as const,
    );
    // A lock in the second chunk is named by its seat, and holds the vouch back.
    await redis.set(seatKey(prefix, 'big', 's777'), 'a-token', 'PX', 60_000);
    expect(await lock.restoreMarks('big', epoch, seats, true)).toEqual({
      lost: false,
      pending: ['s777'],
      vouched: false,
    });
    expect((await lock.marks('big')).whole).toBe(false);
    await redis.del(seatKey(prefix, 'big', 's777'));
    expect(await lock.restoreMarks('big', epoch, seats, true)).toEqual({ lost: false, pending: [], vouched: true });
    expect(await redis.get(seatKey(prefix, 'big', 's1233'))).toBe('sold:b1233');
    expect(await redis.get(seatKey(prefix, 'big', 's777'))).toBe('sold:b777');
    expect((await lock.marks('big')).whole).toBe(true);
  });

  it('in-process: the same contract, on the process’s clock; a restarted process has lost every mark', async () => {
    let now = 1_000_000;
    const lock = createMemoryTicketLock(TIMINGS, () => now);
    await lock.openMarks('opened');
    expect(await lock.marks('opened')).toEqual({ epoch: 0, whole: true, keptMs: TIMINGS.soldMarkTtlMs });
    expect(await lock.marks('unopened')).toEqual({ epoch: now, whole: false, keptMs: 0 });
    now += 250;
    expect(await lock.marks('unopened')).toEqual({ epoch: now - 250, whole: false, keptMs: 250 });
    await lock.openMarks('unopened');
    expect((await lock.marks('unopened')).keptMs).toBe(250);

    const epoch = now - 250;
    const taken = await lock.acquire({ eventId: 'unopened', ticketId: 't3' });
    expect(taken.acquired).toBe(true);
    expect(await lock.restoreMarks('unopened', epoch + 1, [SOLD], true)).toEqual({ lost: true });
    expect(await lock.restoreMarks('unopened', epoch, [SOLD, HELD, LOCKED], true)).toEqual({
      lost: false,
      pending: ['t3'],
      vouched: false,
    });
    expect(await lock.acquire({ eventId: 'unopened', ticketId: 't1' })).toEqual({
      acquired: false,
      reason: 'SOLD',
      holder: 'ann',
    });
    expect(await lock.acquire({ eventId: 'unopened', ticketId: 't2' })).toEqual({
      acquired: false,
      reason: 'HELD',
      holder: 'bob',
    });
    if (taken.acquired) await lock.release(taken.lease);
    expect((await lock.restoreMarks('unopened', epoch, [SOLD, HELD, LOCKED], true)).lost).toBe(false);
    expect(await lock.marks('unopened')).toEqual({ epoch, whole: true, keptMs: TIMINGS.soldMarkTtlMs });
    expect(await lock.advanceEpoch('unopened', epoch + 1, epoch + 9)).toBe(false);
    expect(await lock.advanceEpoch('unopened', epoch, epoch + 9)).toBe(true);
    expect(await lock.marks('unopened')).toMatchObject({ epoch: epoch + 9, whole: false });

    await lock.close();
    const restarted = createMemoryTicketLock(TIMINGS, () => now);
    expect(await restarted.marks('opened')).toMatchObject({ whole: false, keptMs: 0 });
    await restarted.close();
  });
});
