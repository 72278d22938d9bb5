/**
 * How long an event's seat marks have been complete (TicketLock.openMarks / marksKeptMs): what lets a
 * keyed loser refused LOCKED answer with no query, and what sends it to Postgres after Redis lost
 * the marks (sales/idempotency.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import { createMemoryTicketLock } from '../src/infra/memory-ticket-lock.js';
import { marksSinceKey } from '../src/infra/redis-keys.js';
import { createRedisTicketLock } from '../src/infra/redis-ticket-lock.js';
import { uniqueRedisPrefix } from './helpers/app.js';
import { test as it } from './helpers/fixtures.js';

const TIMINGS = { lockTtlMs: 1000, soldMarkTtlMs: 60_000 };

describe('an event’s marks kept', () => {
  it('Redis: an opened event counts from its creation; a lost record restarts the count at 0, by Redis’s clock', async ({
    redis,
  }) => {
    const prefix = uniqueRedisPrefix();
    const lock = createRedisTicketLock(redis, prefix, TIMINGS);
    await lock.openMarks('opened');
    // Complete since creation: as long as any sold mark lives.
    expect(await lock.marksKeptMs('opened')).toBe(TIMINGS.soldMarkTtlMs);
    // Never opened (created before the marks existed, or opening failed): the count starts now.
    expect(await lock.marksKeptMs('unopened')).toBe(0);
    await sleep(120);
    const later = await lock.marksKeptMs('unopened');
    expect(later).toBeGreaterThanOrEqual(100);
    expect(later).toBeLessThan(TIMINGS.soldMarkTtlMs);
    // Redis loses the event's keys (a flush, a restart): the next reader starts the count again.
    await redis.del(marksSinceKey(prefix, 'opened'));
    expect(await lock.marksKeptMs('opened')).toBe(0);
    // Opening again does not pretend the marks are complete: the record is there, and stays.
    await lock.openMarks('opened');
    expect(await lock.marksKeptMs('opened')).toBeLessThan(1000);
    // The record lasts as long as a sold mark would.
    expect(await redis.pttl(marksSinceKey(prefix, 'opened'))).toBeGreaterThan(TIMINGS.soldMarkTtlMs - 5000);
  });

  it('in-process: the same contract, on the process’s clock; a restarted process has lost every mark', async () => {
    let now = 1_000_000;
    const lock = createMemoryTicketLock(TIMINGS, () => now);
    await lock.openMarks('opened');
    expect(await lock.marksKeptMs('opened')).toBe(TIMINGS.soldMarkTtlMs);
    expect(await lock.marksKeptMs('unopened')).toBe(0);
    now += 250;
    expect(await lock.marksKeptMs('unopened')).toBe(250);
    await lock.openMarks('unopened');
    expect(await lock.marksKeptMs('unopened')).toBe(250);
    await lock.close();
    const restarted = createMemoryTicketLock(TIMINGS, () => now);
    expect(await restarted.marksKeptMs('opened')).toBe(0);
    await restarted.close();
  });
});
