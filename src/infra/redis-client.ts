import { Redis } from 'ioredis';

/** How a connection behaves when Redis is slow or gone. */
export interface RedisOptions {
  /** A command still unanswered after this fails (so a request gets SERVICE_UNAVAILABLE, not a hang). */
  commandTimeoutMs: number;
  /** Told about connection errors, which ioredis would otherwise print as "Unhandled error event". */
  onError: (error: unknown) => void;
}

/**
 * Connects ioredis with auto-pipelining, so concurrent commands share round trips under load. While
 * Redis is down, a command fails after two reconnection attempts or `commandTimeoutMs`, whichever
 * comes first, and the client keeps reconnecting in the background, so recovery needs no restart.
 */
export function createRedis(url: string, name: string, options: RedisOptions): Redis {
  const redis = new Redis(url, {
    connectionName: name,
    enableAutoPipelining: true,
    maxRetriesPerRequest: 2,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: options.commandTimeoutMs,
    lazyConnect: false,
  });
  redis.on('error', options.onError);
  return redis;
}

/** Closes a connection, waiting for replies to commands already sent. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
