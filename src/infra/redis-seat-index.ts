import { randomUUID } from 'node:crypto';
import type { Result } from 'ioredis';
import { indexRows } from '../catalog/best-seats.js';
import type { RedisConnection } from './redis-client.js';
import { eventTag, type INDEX_KEYS, indexKey } from './redis-keys.js';
import type { PickResult, SeatIndex } from './seat-index.js';
import { PICK_SEATS_LUA } from './seat-index-lua.js';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    fluxPickSeats(metaKey: string, ...args: (string | number)[]): Result<string[], Context>;
  }
}

/** How long one instance may take to rebuild an index before another may try. */
const BUILD_LEASE_MS = 30_000;
/** Members per ZADD or HSET while rebuilding: big venues go in a few commands, not one huge one. */
const CHUNK = 5000;

/**
 * The free-seat index in Redis (key map: redis-keys.ts). Picking is one Lua script
 * ({@link PICK_SEATS_LUA}); a rebuild writes the whole index in one MULTI, the sentinel (`ix:meta`)
 * last, so a pick sees either no index (and waits) or a whole one.
 */
export function createRedisSeatIndex(redis: RedisConnection, prefix: string, lockTtlMs: number): SeatIndex {
  redis.defineCommand('fluxPickSeats', { numberOfKeys: 1, lua: PICK_SEATS_LUA });
  return {
    async pick(request): Promise<PickResult> {
      const token = randomUUID();
      const reply = await redis.fluxPickSeats(
        indexKey(prefix, request.eventId, 'meta'),
        eventTag(prefix, request.eventId),
        request.quantity,
        request.together ? '1' : '0',
        request.maxPriceCents ?? -1,
        lockTtlMs,
        token,
        ...(request.sections ?? []),
      );
      const [kind, ...rest] = reply;
      if (kind === 'lost') return { kind: 'lost' };
      if (kind === 'short') return { kind: 'short', available: Number(rest[0] ?? 0) };
      return { kind: 'picked', leases: rest.map((ticketId) => ({ eventId: request.eventId, ticketId, token })) };
    },
    async rebuild(eventId, load) {
      const building = indexKey(prefix, eventId, 'building');
      if ((await redis.set(building, '1', 'PX', BUILD_LEASE_MS, 'NX')) === null) return false;
      try {
        const rows = indexRows(await load());
        const key = (name: keyof typeof INDEX_KEYS, row?: number) => indexKey(prefix, eventId, name, row);
        const multi = redis.multi();
        multi.del(key('meta'), key('open'), key('free'), key('rows'), key('where'));
        rows.forEach((row, r) => {
          multi.del(key('bits', r), key('ids', r), key('ga', r));
          const free = row.free.filter(Boolean).length;
          multi.hset(
            key('rows'),
            String(r),
            `${row.kind === 'ga' ? 'g' : 's'}|${row.priceCents}|${row.ticketIds.length}|${row.section}`,
          );
          multi.hset(key('free'), String(r), String(free));
          if (free > 0) multi.zadd(key('open'), r, String(r));
          if (row.kind === 'seated') {
            multi.set(key('bits', r), row.free.map((f) => (f ? '0' : '1')).join(''));
            multi.set(key('ids', r), row.ticketIds.join(''));
          } else {
            const members: (string | number)[] = [];
            row.ticketIds.forEach((id, offset) => {
              if (row.free[offset]) members.push(offset, id);
            });
            for (let i = 0; i < members.length; i += 2 * CHUNK)
              multi.zadd(key('ga', r), ...members.slice(i, i + 2 * CHUNK));
          }
          const where: string[] = [];
          row.ticketIds.forEach((id, offset) => {
            where.push(id, `${r}:${offset}`);
          });
          for (let i = 0; i < where.length; i += 2 * CHUNK) multi.hset(key('where'), ...where.slice(i, i + 2 * CHUNK));
        });
        multi.hset(key('meta'), 'rows', String(rows.length), 'builtAt', String(Date.now()));
        await multi.exec();
        return true;
      } finally {
        await redis.del(building);
      }
    },
    async mayCheck(eventId, intervalMs) {
      return (await redis.set(indexKey(prefix, eventId, 'checked'), '1', 'PX', intervalMs, 'NX')) !== null;
    },
  };
}
