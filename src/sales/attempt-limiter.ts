import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { RateLimitedError } from './errors.js';
import type { AttemptLimiter } from './purchase.js';

/** How many purchase attempts per customer per window. */
export interface AttemptBudget {
  points: number;
  windowSeconds: number;
}

/**
 * The per-customer purchase budget, on rate-limiter-flexible (one atomic Redis script per attempt,
 * shared by every instance; or in process when embedded). It never touches Postgres.
 */
export function createAttemptLimiter(
  budget: AttemptBudget,
  store: { redis: Redis; keyPrefix: string } | undefined,
): AttemptLimiter | undefined {
  if (budget.points === 0) return undefined;
  const options = { points: budget.points, duration: budget.windowSeconds };
  const limiter = store
    ? new RateLimiterRedis({ ...options, storeClient: store.redis, keyPrefix: `${store.keyPrefix}attempts` })
    : new RateLimiterMemory(options);
  return {
    async take(customerId) {
      try {
        await limiter.consume(customerId);
      } catch (error) {
        if (error instanceof RateLimiterRes) throw new RateLimitedError(error.msBeforeNext);
        throw error;
      }
    },
  };
}
