import type { Redis } from 'ioredis';
import { ticketLockKey } from '../src/infra/redis-ticket-lock.js';

/** Calls per command since the Redis server started (`INFO commandstats`). */
export type CommandCounts = Map<string, number>;

/** Reads `INFO commandstats`. It counts every client of this Redis, and commands run inside Lua too. */
export async function commandCounts(redis: Redis): Promise<CommandCounts> {
  const info = await redis.info('commandstats');
  const counts: CommandCounts = new Map();
  for (const line of info.split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (match?.[1] && match[2]) counts.set(match[1], Number(match[2]));
  }
  return counts;
}

/** Calls between two readings, less the `info` that took the second one; commands with no calls omitted. */
export function commandDelta(before: CommandCounts, after: CommandCounts): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [name, calls] of after) {
    const n = calls - (before.get(name) ?? 0) - (name === 'info' ? 1 : 0);
    if (n > 0) delta[name] = n;
  }
  return delta;
}

/** Deletes this run's keys (SCAN in bounded batches, never KEYS). Returns how many went. */
export async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  for (let round = 0; round < 100_000; round++) {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) deleted += await redis.unlink(...keys);
    cursor = next;
    if (cursor === '0') break;
  }
  return deleted;
}

/**
 * How many of these tickets have a ticket-lock key (a lock or the sold mark) under `prefix`: the
 * seats that went through the Redis lock. Only this run's keys count, whatever else uses the server.
 */
export async function lockedSeats(
  redis: Redis,
  prefix: string,
  eventId: string,
  ticketIds: readonly string[],
): Promise<number> {
  let found = 0;
  for (let start = 0; start < ticketIds.length; start += 1000) {
    const keys = ticketIds.slice(start, start + 1000).map((id) => ticketLockKey(prefix, { eventId, ticketId: id }));
    found += await redis.exists(...keys);
  }
  return found;
}
