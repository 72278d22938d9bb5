import { randomUUID } from 'node:crypto';
import type { Result } from 'ioredis';
import type { TicketKey } from '../catalog/ticket-key.js';
import { lockBySlot } from './lock-by-slot.js';
import type { RedisConnection } from './redis-client.js';
import { eventTag, marksSinceKey, marksWholeKey, seatKey } from './redis-keys.js';
import { RELEASE_SEAT_LUA, REOPEN_SEAT_LUA } from './seat-index-lua.js';
import {
  type AcquireResult,
  heldMark,
  type Lease,
  type LockTimings,
  marksState,
  markTtl,
  type RestoredMark,
  refusalOf,
  restoredMarkValue,
  soldMark,
  type TicketLock,
} from './ticket-lock.js';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    fluxReleaseSeat(key: string, token: string, base: string, ticketId: string): Result<number, Context>;
    fluxReopenSeat(key: string, base: string, ticketId: string): Result<number, Context>;
    fluxCompareAndSet(key: string, token: string, mark: string, ttlMs: number): Result<number, Context>;
    fluxLockAll(...keysThenTokenAndTtl: Array<string | number>): Result<string[], Context>;
    fluxMarks(since: string, whole: string, ttlMs: number): Result<[string, number, number], Context>;
    fluxRestoreMarks(...keysThenArgs: Array<string | number>): Result<number[], Context>;
    fluxAdvanceEpoch(since: string, whole: string, from: string, to: string): Result<number, Context>;
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
 * KEYS: the event's marks-since and marks-whole records. ARGV: their TTL. Returns the epoch (the
 * marks-since value), the milliseconds since it began by Redis's clock, and 1 when marks-whole vouches
 * for it. A missing marks-since (the marks were lost, or never opened) is set to now: a new epoch.
 */
const MARKS = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local since = redis.call('GET', KEYS[1])
if not since then
  redis.call('SET', KEYS[1], now, 'PX', ARGV[1])
  since = tostring(now)
end
local whole = 0
if redis.call('GET', KEYS[2]) == since then whole = 1 end
return {since, now - tonumber(since), whole}`;

/**
 * KEYS: marks-since, marks-whole, then the seats. ARGV: the epoch, 1 to vouch, then each seat's mark
 * and TTL. Does nothing and returns {-1} when marks-since holds another epoch. Else sets each seat's
 * mark unless its key holds a lock (a token), and returns {0, the positions of those seats}; with
 * none such and the vouch asked for, marks-whole takes the epoch (expiring with marks-since).
 */
const RESTORE_MARKS = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {-1} end
local pending = {0}
for i = 3, #KEYS do
  local mark = ARGV[2 * i - 3]
  local current = redis.call('GET', KEYS[i])
  if current and current ~= mark and not (current == 'sold' or string.sub(current, 1, 5) == 'sold:'
      or string.sub(current, 1, 5) == 'held:') then
    pending[#pending + 1] = i - 2
  elseif current ~= mark then
    redis.call('SET', KEYS[i], mark, 'PX', ARGV[2 * i - 2])
  end
end
if #pending == 1 and ARGV[2] == '1' then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then redis.call('SET', KEYS[2], ARGV[1], 'PX', ttl) else redis.call('SET', KEYS[2], ARGV[1]) end
end
return pending`;

/** KEYS: marks-since, marks-whole. ARGV: from, to. Moves the epoch, unvouched, if it is still `from`. */
const ADVANCE_EPOCH = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl) else redis.call('SET', KEYS[1], ARGV[2]) end
redis.call('DEL', KEYS[2])
return 1`;

/** Seats per {@link RESTORE_MARKS} call: a few milliseconds of Redis's time each. */
const RESTORE_CHUNK = 500;

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
  redis.defineCommand('fluxMarks', { numberOfKeys: 2, lua: MARKS });
  redis.defineCommand('fluxRestoreMarks', { lua: RESTORE_MARKS });
  redis.defineCommand('fluxAdvanceEpoch', { numberOfKeys: 2, lua: ADVANCE_EPOCH });
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
      // Both records, so the epoch 0 is vouched for; a marks-since already there (a lost event's) stays.
      await redis
        .multi()
        .set(marksSinceKey(prefix, eventId), 0, 'PX', timings.soldMarkTtlMs, 'NX')
        .set(marksWholeKey(prefix, eventId), 0, 'PX', timings.soldMarkTtlMs, 'NX')
        .exec();
    },
    async marks(eventId) {
      const [since, kept, whole] = await redis.fluxMarks(
        marksSinceKey(prefix, eventId),
        marksWholeKey(prefix, eventId),
        timings.soldMarkTtlMs,
      );
      return marksState(Number(since), kept, whole === 1, timings.soldMarkTtlMs);
    },
    async leaseEpoch(eventId) {
      return (await lock.marks(eventId)).epoch;
    },
    async restoreMarks(eventId, epoch, marks, vouch) {
      const records = [marksSinceKey(prefix, eventId), marksWholeKey(prefix, eventId)];
      const pending: string[] = [];
      for (let start = 0; start === 0 || start < marks.length; start += RESTORE_CHUNK) {
        const chunk = marks.slice(start, start + RESTORE_CHUNK);
        const last = start + RESTORE_CHUNK >= marks.length;
        const args: Array<string | number> = [String(epoch), vouch && last && pending.length === 0 ? 1 : 0];
        for (const mark of chunk) args.push(restoredMarkValue(mark), markTtl(mark, timings));
        const keys = chunk.map((mark) => key({ eventId, ticketId: mark.ticketId }));
        const [state, ...positions] = await redis.fluxRestoreMarks(
          records.length + keys.length,
          ...records,
          ...keys,
          ...args,
        );
        if (state === -1) return { lost: true };
        for (const position of positions) pending.push((chunk[position - 1] as RestoredMark).ticketId);
      }
      return { lost: false, pending, vouched: vouch && pending.length === 0 };
    },
    async advanceEpoch(eventId, from, to) {
      const records = [marksSinceKey(prefix, eventId), marksWholeKey(prefix, eventId)] as const;
      return (await redis.fluxAdvanceEpoch(...records, String(from), String(to))) === 1;
    },
    async close() {
      // The connection belongs to the caller.
    },
  };
  return lock;
}
