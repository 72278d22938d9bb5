import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import { NotFoundError } from '../src/errors.js';
import { createMemoryKeyAttempts, type KeyAttempts } from '../src/infra/key-attempts.js';
import { createRedisKeyAttempts } from '../src/infra/redis-key-attempts.js';
import {
  NotEnoughSeatsError,
  PurchaseLimitReachedError,
  RateLimitedError,
  SaleClosedError,
  SaleNotOpenError,
  TicketsUnavailableError,
} from '../src/sales/errors.js';
import { refusalOf, refusalRecord } from '../src/sales/refusal-record.js';
import { uniqueRedisPrefix } from './helpers/app.js';
import { test as it } from './helpers/fixtures.js';

const TIMINGS = { lockTtlMs: 150, windowMs: 600 };

const backends: Array<[string, (redis: Parameters<typeof createRedisKeyAttempts>[0]) => KeyAttempts]> = [
  ['Redis', (redis) => createRedisKeyAttempts(redis, uniqueRedisPrefix(), TIMINGS)],
  ['in-process', () => createMemoryKeyAttempts(TIMINGS)],
];

describe.each(backends)("an idempotency key's attempts (%s)", (_, make) => {
  it('a first attempt leases the key; one that begins meanwhile is a twin, and the first may no longer refuse quietly', async ({
    redis,
  }) => {
    const keys = make(redis);
    const first = await keys.begin('k');
    expect(first).toMatchObject({ state: 'first', leased: true });
    const twin = await keys.begin('k');
    expect(twin).toMatchObject({ state: 'again', leased: false });
    if (first.state === 'refused' || twin.state === 'refused') throw new Error('unexpected');
    // Nothing recorded, the lease kept: the twin may still be running.
    expect(await keys.end('k', first.token, { refused: 'R', onlyIfAlone: true })).toBe(false);
    expect(await keys.begin('k')).toMatchObject({ state: 'again', leased: false });
    // Once the refusal is durable elsewhere, it is recorded for every later attempt, which takes no lease.
    expect(await keys.end('k', first.token, { refused: 'R' })).toBe(true);
    expect(await keys.begin('k')).toEqual({ state: 'refused', refusal: 'R' });
  });

  it('a first attempt alone records its refusal in the same step; a late twin finds it', async ({ redis }) => {
    const keys = make(redis);
    const first = await keys.begin('k');
    if (first.state === 'refused') throw new Error('unexpected');
    expect(await keys.end('k', first.token, { refused: 'LOCKED', onlyIfAlone: true })).toBe(true);
    expect(await keys.begin('k')).toEqual({ state: 'refused', refusal: 'LOCKED' });
  });

  it("a key that made its result names the request's fingerprint to every later attempt, which gets the lease", async ({
    redis,
  }) => {
    const keys = make(redis);
    const first = await keys.begin('k');
    if (first.state === 'refused') throw new Error('unexpected');
    expect(await keys.end('k', first.token, { made: 'seats-a' })).toBe(true);
    const retry = await keys.begin('k');
    expect(retry).toMatchObject({ state: 'made', made: 'seats-a', leased: true });
  });

  it("a stalled attempt's lease lapses after the lock TTL, but the key stays remembered for the window", async ({
    redis,
  }) => {
    const keys = make(redis);
    const stalled = await keys.begin('k');
    expect(stalled).toMatchObject({ state: 'first', leased: true });
    await sleep(TIMINGS.lockTtlMs + 50);
    const retry = await keys.begin('k');
    expect(retry).toMatchObject({ state: 'again', leased: true });
    if (stalled.state === 'refused' || retry.state === 'refused') throw new Error('unexpected');
    // The stalled attempt's end touches neither the record nor the retry's lease.
    expect(await keys.end('k', stalled.token)).toBe(true);
    expect(await keys.begin('k')).toMatchObject({ state: 'again', leased: false });
    await sleep(TIMINGS.windowMs + 50);
    expect(await keys.begin('k')).toMatchObject({ state: 'first', leased: true });
  });
});

describe('a refusal as a key keeps it', () => {
  it('comes back as the same refusal, for every refusal a keyed purchase or hold can answer', () => {
    const refusals = [
      new TicketsUnavailableError([{ ticketId: 't', eventId: 'e', reason: 'LOCKED', holder: 'someone' }]),
      new NotFoundError('e/t', 'Ticket'),
      new SaleNotOpenError(new Date('2030-01-01T00:00:00Z')),
      new SaleClosedError(new Date('2020-01-01T00:00:00Z')),
      new PurchaseLimitReachedError(4, 3),
      new NotEnoughSeatsError(4, 6, true),
    ];
    for (const refusal of refusals) {
      const kept = refusalOf(JSON.stringify(refusalRecord(refusal)));
      expect(kept).toBeInstanceOf(refusal.constructor);
      expect(kept.message).toBe(refusal.message);
      expect({ ...kept }).toEqual({
        ...refusal,
        ...('tickets' in refusal ? { tickets: [{ ticketId: 't', eventId: 'e', reason: 'LOCKED' }] } : {}),
      });
    }
    // The buyer a mark named is internal, and not kept; a failure no key can keep is not answered as final.
    expect(() => refusalRecord(new RateLimitedError(1000))).toThrow(/cannot keep/);
  });
});
