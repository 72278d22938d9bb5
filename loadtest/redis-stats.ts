import { Cluster, type Redis } from 'ioredis';
import type { RedisConnection } from '../src/infra/redis-client.js';
import { ticketLockKey } from '../src/infra/redis-ticket-lock.js';

/** Calls per command since the Redis server started (`INFO commandstats`); `cpu_seconds`, its CPU time. */
export type CommandCounts = Map<string, number>;

/** The key under which {@link commandCounts} keeps the servers' CPU seconds (`INFO cpu`). */
export const CPU_SECONDS = 'cpu_seconds';

/** The servers a connection reaches: one, or every master of a cluster (replicas only replay writes). */
function servers(redis: RedisConnection): Redis[] {
  return redis instanceof Cluster ? redis.nodes('master') : [redis];
}

/**
 * Reads `INFO commandstats` and `INFO cpu`, summed over every master of a cluster. It counts every
 * client of these servers, and commands run inside Lua too; the CPU is the servers' user + system time.
 */
export async function commandCounts(redis: RedisConnection): Promise<CommandCounts> {
  const counts: CommandCounts = new Map();
  for (const server of servers(redis)) {
    const info = `${await server.info('commandstats')}\n${await server.info('cpu')}`;
    for (const line of info.split('\n')) {
      const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
      if (match?.[1] && match[2]) counts.set(match[1], (counts.get(match[1]) ?? 0) + Number(match[2]));
      const cpu = /^used_cpu_(sys|user):([\d.]+)/.exec(line.trim());
      if (cpu?.[2]) counts.set(CPU_SECONDS, (counts.get(CPU_SECONDS) ?? 0) + Number(cpu[2]));
    }
  }
  return counts;
}

/**
 * Calls between two readings, less the `info` that took the second one (two per server); commands with
 * no calls omitted. The CPU seconds are left out: {@link cpuDelta} reads them.
 */
export function commandDelta(before: CommandCounts, after: CommandCounts, serverCount = 1): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [name, calls] of after) {
    if (name === CPU_SECONDS) continue;
    const n = calls - (before.get(name) ?? 0) - (name === 'info' ? 2 * serverCount : 0);
    if (n > 0) delta[name] = n;
  }
  return delta;
}

/** The servers' CPU seconds between two readings. */
export function cpuDelta(before: CommandCounts, after: CommandCounts): number {
  return (after.get(CPU_SECONDS) ?? 0) - (before.get(CPU_SECONDS) ?? 0);
}

/** How many servers {@link commandCounts} reads. */
export function serverCount(redis: RedisConnection): number {
  return servers(redis).length;
}

/** Deletes this run's keys (SCAN in bounded batches on each server, never KEYS). Returns how many went. */
export async function deleteKeys(redis: RedisConnection, prefix: string): Promise<number> {
  let deleted = 0;
  for (const server of servers(redis)) {
    let cursor = '0';
    for (let round = 0; round < 100_000; round++) {
      const [next, keys] = await server.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      // One key per call: on a cluster, the keys of one batch lie in many slots.
      for (const key of keys) deleted += await server.unlink(key);
      cursor = next;
      if (cursor === '0') break;
    }
  }
  return deleted;
}

/**
 * How many of these tickets have a ticket-lock key (a lock or the sold mark) under `prefix`: the
 * seats that went through the Redis lock. Only this run's keys count, whatever else uses the server.
 */
export async function lockedSeats(
  redis: RedisConnection,
  prefix: string,
  eventId: string,
  ticketIds: readonly string[],
): Promise<number> {
  let found = 0;
  for (let start = 0; start < ticketIds.length; start += 1000) {
    const keys = ticketIds.slice(start, start + 1000).map((id) => ticketLockKey(prefix, { eventId, ticketId: id }));
    // One event's seats share its hash tag, so one multi-key EXISTS is one slot, on a cluster too.
    found += await redis.exists(...keys);
  }
  return found;
}
