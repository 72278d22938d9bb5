import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RedisConnection } from './redis-client.js';
import { attemptsKey, attemptsKeyPrefix } from './redis-keys.js';

/** How many purchase attempts per customer per window. */
export interface AttemptBudget {
  points: number;
  windowSeconds: number;
}

/** A customer's attempt budget. */
export interface AttemptLimiter {
  /** Takes one attempt: 0 when allowed, else the milliseconds until the budget allows one again. */
  take(customerId: string): Promise<number>;
}

/**
 * The per-customer attempt budget, on rate-limiter-flexible (one atomic Redis script per attempt,
 * shared by every instance; or in process when embedded). It never touches Postgres. Undefined when
 * the budget is turned off (`points` 0).
 */
export function createAttemptLimiter(
  budget: AttemptBudget,
  store: { redis: RedisConnection; keyPrefix: string } | undefined,
): AttemptLimiter | undefined {
  if (budget.points === 0) return undefined;
  const options = { points: budget.points, duration: budget.windowSeconds };
  const limiter = store
    ? new RateLimiterRedis({ ...options, storeClient: store.redis, keyPrefix: attemptsKeyPrefix(store.keyPrefix) })
    : new RateLimiterMemory(options);
  return {
    async take(customerId) {
      try {
        await limiter.consume(attemptsKey(customerId));
        return 0;
      } catch (error) {
        if (error instanceof RateLimiterRes) return Math.max(1, error.msBeforeNext);
        throw error;
      }
    },
  };
}
