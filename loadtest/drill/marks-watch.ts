import { Redis } from 'ioredis';
import { marksSinceKey, marksWholeKey } from '../../src/infra/redis-keys.js';
import { sleep } from '../services.js';

/**
 * After a fault that lost Redis's data: how long after `from` (epoch ms) the event's seat marks were
 * vouched for again (a reload from Postgres, src/sales/marks.ts), polled every 20 ms until `until`;
 * null when not by then.
 */
export async function marksWholeAfter(
  redisUrl: string,
  prefix: string,
  eventId: string,
  from: number,
  until: number,
): Promise<number | null> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    while (Date.now() < until) {
      const [since, whole] = await redis.mget(marksSinceKey(prefix, eventId), marksWholeKey(prefix, eventId));
      if (since && since === whole) return Date.now() - from;
      await sleep(20);
    }
    return null;
  } catch {
    return null;
  } finally {
    redis.disconnect();
  }
}
