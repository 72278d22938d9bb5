import { Cluster, Redis } from 'ioredis';
import type { RedisNodeAddress } from '../config.js';

/** How a connection behaves when Redis is slow or gone. */
export interface RedisOptions {
  /** A command still unanswered after this fails (so a request gets SERVICE_UNAVAILABLE, not a hang). */
  commandTimeoutMs: number;
  /** Told about connection errors, which ioredis would otherwise print as "Unhandled error event". */
  onError: (error: unknown) => void;
}

/** Where Redis is: one server (`REDIS_URL`) or a Redis Cluster's seed nodes (`REDIS_CLUSTER_NODES`). */
export type RedisTarget = { url: string } | { clusterNodes: readonly RedisNodeAddress[] };

/**
 * A connection to one server or to a cluster. Both speak the same commands (and `defineCommand`); on a
 * cluster a command goes to the master of its key's slot, and a script's keys must share one slot.
 */
export type RedisConnection = Redis | Cluster;

/** The connection's role: commands, or the subscriber of live updates (sharded pub/sub on a cluster). */
export type RedisRole = 'commands' | 'subscriber';

/**
 * Connects ioredis with auto-pipelining, so concurrent commands share round trips under load (on a
 * cluster, one pipeline per node). While Redis is down, a command fails after two reconnection
 * attempts or `commandTimeoutMs`, whichever comes first, and the client keeps reconnecting in the
 * background, so recovery needs no restart.
 *
 * On a cluster: reads go to masters (`scaleReads: 'master'`), since a lock read from a lagging replica
 * could call a sold seat free; a command meeting a failover (`CLUSTERDOWN`, a dead node) is retried as
 * the slots move, within `commandTimeoutMs`. A subscriber gets one connection per master for sharded
 * pub/sub (`shardedSubscribers`), which ioredis moves and re-subscribes when masters change.
 */
export function createRedis(target: RedisTarget, name: string, options: RedisOptions, role: RedisRole = 'commands') {
  const perNode = {
    connectionName: name,
    maxRetriesPerRequest: 2,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: options.commandTimeoutMs,
  };
  const redis: RedisConnection =
    'url' in target
      ? new Redis(target.url, { ...perNode, enableAutoPipelining: true, lazyConnect: false })
      : new Cluster([...target.clusterNodes], {
          redisOptions: perNode,
          enableAutoPipelining: true,
          scaleReads: 'master',
          shardedSubscribers: role === 'subscriber',
          // The slot map is refreshed on MOVED and on a lost node at once; this also catches a
          // failover that no command has run into yet.
          slotsRefreshInterval: 2000,
          lazyConnect: false,
        });
  redis.on('error', options.onError);
  return redis;
}

/** Closes a connection, waiting for replies to commands already sent. */
export async function closeRedis(redis: RedisConnection): Promise<void> {
  if (redis.status === 'end') return;
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
