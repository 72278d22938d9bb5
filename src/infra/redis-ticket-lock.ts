import { randomUUID } from 'node:crypto';
import type { Result } from 'ioredis';
import type { TicketKey } from '../catalog/ticket-key.js';
import { lockBySlot } from './lock-by-slot.js';
import type { RedisConnection } from './redis-client.js';
import { eventTag, marksSinceKey, seatKey } from './redis-keys.js';
import { RELEASE_SEAT_LUA, REOPEN_SEAT_LUA } from './seat-index-lua.js';
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
    fluxReleaseSeat(key: string, token: string, base: string, ticketId: string): Result<number, Context>;
    fluxReopenSeat(key: string, base: string, ticketId: string): Result<number, Context>;
    fluxCompareAndSet(key: string, token: string, mark: string, ttlMs: number): Result<number, Context>;
    fluxLockAll(...keysThenTokenAndTtl: Array<string | number>): Result<string[], Context>;
    fluxMarksKept(key: string, ttlMs: number): Result<number, Context>;
  }
}

const COMPARE_AND_SET = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0`;

/**
 * Takes every key with the token, or none: returns each key's value before, '' for a free key. A key
 * that holds anything refuses the whole set. All keys must share a slot on a cluster (the seats of
 * one event do: they share its hash tag).
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

/**
 * KEYS: the event's marks-since record. ARGV: its TTL. Returns the milliseconds since it was set, by
 * Redis's clock; a missing record is set to now (the marks were lost, or never opened) and reads 0.
 */
const MARKS_KEPT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local since = redis.call('GET', KEYS[1])
if not since then
  redis.call('SET', KEYS[1], now, 'PX', ARGV[1])
  return 0
end
return now - tonumber(since)`;

/** The key of a seat's lock, in its event's hash tag (see redis-keys.ts). */
export function ticketLockKey(prefix: string, seat: TicketKey): string {
  return seatKey(prefix, seat.eventId, seat.ticketId);
}

/**
 * The product's lock: `SET <seat key> <token> NX PX <ttl> GET` takes the lock and, when it is
 * refused, returns the current value in the same round trip, which tells a holder from the sold mark.
 * `SET … NX … GET` needs Redis 6.2 or later. Releasing and reopening a seat also count it free in
 * the event's free-seat index (redis-seat-index.ts), in the same script.
 */
export function createRedisTicketLock(redis: RedisConnection, prefix: string, timings: LockTimings): TicketLock {
  redis.defineCommand('fluxReleaseSeat', { numberOfKeys: 1, lua: RELEASE_SEAT_LUA });
  redis.defineCommand('fluxReopenSeat', { numberOfKeys: 1, lua: REOPEN_SEAT_LUA });
  redis.defineCommand('fluxCompareAndSet', { numberOfKeys: 1, lua: COMPARE_AND_SET });
  redis.defineCommand('fluxLockAll', { lua: LOCK_ALL });
  redis.defineCommand('fluxMarksKept', { numberOfKeys: 1, lua: MARKS_KEPT });
  const key = (seat: TicketKey) => ticketLockKey(prefix, seat);
  const base = (seat: TicketKey) => eventTag(prefix, seat.eventId);

  const acquire = async (seat: TicketKey): Promise<AcquireResult> => {
    // randomUUID draws from a buffered pool: no getrandom() call per lock, unlike randomBytes.
    const token = randomUUID();
    const previous = await redis.set(key(seat), token, 'PX', timings.lockTtlMs, 'NX', 'GET');
    if (previous === null) return { acquired: true, lease: { ...seat, token } };
    return { acquired: false, ...refusalOf(previous) };
  };
  const lock: TicketLock = {
    acquire,
    acquireAll: (seats) =>
      lockBySlot(seats, key, {
        single: acquire,
        together: (keys, token) => redis.fluxLockAll(keys.length, ...keys, token, timings.lockTtlMs),
        release: (lease) => lock.release(lease),
      }),
    async release(lease: Lease) {
      return (await redis.fluxReleaseSeat(key(lease), lease.token, base(lease), lease.ticketId)) === 1;
    },
    async markSold(lease: Lease, buyer?: string) {
      const marked = await redis.fluxCompareAndSet(key(lease), lease.token, soldMark(buyer), timings.soldMarkTtlMs);
      return marked === 1;
    },
    async markHeld(lease: Lease, buyer: string, ttlMs: number) {
      const marked = await redis.fluxCompareAndSet(key(lease), lease.token, heldMark(buyer), ttlMs);
      return marked === 1;
    },
    async heldToSold(eventId, ticketIds, buyer) {
      await Promise.all(
        ticketIds.map((ticketId) =>
          redis.fluxCompareAndSet(key({ eventId, ticketId }), heldMark(buyer), soldMark(buyer), timings.soldMarkTtlMs),
        ),
      );
    },
    async reopen(seat) {
      await redis.fluxReopenSeat(key(seat), base(seat), seat.ticketId);
    },
    async openMarks(eventId) {
      await redis.set(marksSinceKey(prefix, eventId), 0, 'PX', timings.soldMarkTtlMs, 'NX');
    },
    async marksKeptMs(eventId) {
      const kept = await redis.fluxMarksKept(marksSinceKey(prefix, eventId), timings.soldMarkTtlMs);
      return Math.min(kept, timings.soldMarkTtlMs);
    },
    async close() {
      // The connection belongs to the caller.
    },
  };
  return lock;
}
