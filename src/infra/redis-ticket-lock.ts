import { randomUUID } from 'node:crypto';
import type { Result } from 'ioredis';
import { lockBySlot } from './lock-by-slot.js';
import type { RedisConnection } from './redis-client.js';
import {
  type AcquireResult,
  heldMark,
  type Lease,
  type LockTimings,
  refusalOf,
  soldMark,
  type TicketLock,
} from './ticket-lock.js';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    fluxCompareAndDelete(key: string, token: string): Result<number, Context>;
    fluxCompareAndSet(key: string, token: string, mark: string, ttlMs: number): Result<number, Context>;
    fluxLockAll(...keysThenTokenAndTtl: Array<string | number>): Result<string[], Context>;
  }
}

const COMPARE_AND_DELETE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

const COMPARE_AND_SET = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0`;

/**
 * Takes every key with the token, or none: returns each key's value before, '' for a free key. A key
 * that holds anything refuses the whole set. All keys must share a slot on a cluster.
 */
const LOCK_ALL = `
local previous = {}
local refused = false
for i, key in ipairs(KEYS) do
  local value = redis.call('GET', key)
  if value then
    previous[i] = value
    refused = true
  else
    previous[i] = ''
  end
end
if not refused then
  for _, key in ipairs(KEYS) do
    redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
  end
end
return previous`;

/** The key of a ticket's lock; the braces are a Redis Cluster hash tag. */
export function ticketLockKey(prefix: string, ticketId: string): string {
  return `${prefix}ticket:{${ticketId}}`;
}

/**
 * The product's lock: `SET ticket:{id} <token> NX PX <ttl> GET` takes the lock and, when it is
 * refused, returns the current value in the same round trip, which tells a holder from the sold mark.
 * `SET … NX … GET` needs Redis 6.2 or later.
 */
export function createRedisTicketLock(redis: RedisConnection, prefix: string, timings: LockTimings): TicketLock {
  redis.defineCommand('fluxCompareAndDelete', { numberOfKeys: 1, lua: COMPARE_AND_DELETE });
  redis.defineCommand('fluxCompareAndSet', { numberOfKeys: 1, lua: COMPARE_AND_SET });
  redis.defineCommand('fluxLockAll', { lua: LOCK_ALL });
  const key = (ticketId: string) => ticketLockKey(prefix, ticketId);

  const acquire = async (ticketId: string): Promise<AcquireResult> => {
    // randomUUID draws from a buffered pool: no getrandom() call per lock, unlike randomBytes.
    const token = randomUUID();
    const previous = await redis.set(key(ticketId), token, 'PX', timings.lockTtlMs, 'NX', 'GET');
    if (previous === null) return { acquired: true, lease: { ticketId, token } };
    return { acquired: false, ...refusalOf(previous) };
  };
  const lock: TicketLock = {
    acquire,
    acquireAll: (ticketIds) =>
      lockBySlot(ticketIds, key, {
        single: acquire,
        together: (keys, token) => redis.fluxLockAll(keys.length, ...keys, token, timings.lockTtlMs),
        release: (lease) => lock.release(lease),
      }),
    async release(lease: Lease) {
      return (await redis.fluxCompareAndDelete(key(lease.ticketId), lease.token)) === 1;
    },
    async markSold(lease: Lease, buyer?: string) {
      const marked = await redis.fluxCompareAndSet(
        key(lease.ticketId),
        lease.token,
        soldMark(buyer),
        timings.soldMarkTtlMs,
      );
      return marked === 1;
    },
    async markHeld(lease: Lease, buyer: string, ttlMs: number) {
      const marked = await redis.fluxCompareAndSet(key(lease.ticketId), lease.token, heldMark(buyer), ttlMs);
      return marked === 1;
    },
    async heldToSold(ticketIds, buyer) {
      await Promise.all(
        ticketIds.map((id) =>
          redis.fluxCompareAndSet(key(id), heldMark(buyer), soldMark(buyer), timings.soldMarkTtlMs),
        ),
      );
    },
    async reopen(ticketId) {
      await redis.del(key(ticketId));
    },
    async close() {
      // The connection belongs to the caller.
    },
  };
  return lock;
}
