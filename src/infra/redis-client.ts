import { Cluster, type ClusterOptions, Redis } from 'ioredis';
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
 * Connects ioredis. On one server, with auto-pipelining, so concurrent commands share round trips
 * under load. While Redis is down, a command fails after two reconnection
 * attempts or `commandTimeoutMs`, whichever comes first, and the client keeps reconnecting in the
 * background, so recovery needs no restart.
 *
 * On a cluster: no auto-pipelining, since a pipeline stalled on a dead master holds every later
 * command for that node behind it, unsent and past any timeout, for the whole failover; commands
 * sent together still travel together, one round trip per node. Reads go to masters (`scaleReads: 'master'`), since a lock read from a lagging replica
 * could call a sold seat free; a command meeting a failover (`CLUSTERDOWN`, a dead node) is retried as
 * the slots move, and fails once `commandTimeoutMs` have passed since it was issued, wherever it
 * waits ({@link boundedCluster}). A subscriber gets one connection per master for sharded
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
      : boundedCluster(target.clusterNodes, options.commandTimeoutMs, {
          redisOptions: perNode,
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

/**
 * A Cluster whose every command fails `deadlineMs` after it was issued. ioredis arms `commandTimeout`
 * only once a command is written to a node; a command that meets a dead master waits in the cluster's
 * retries (slot refreshes, CLUSTERDOWN) with no clock at all, and a purchase would hang for the whole
 * failover. Arming the command's own timer when it enters the cluster bounds it (the node's later
 * arming is a no-op: the first timer wins).
 */
function boundedCluster(nodes: readonly RedisNodeAddress[], deadlineMs: number, options: ClusterOptions): Cluster {
  class BoundedCluster extends Cluster {
    override sendCommand(...args: Parameters<Cluster['sendCommand']>) {
      args[0].setTimeout(deadlineMs);
      return super.sendCommand(...args);
    }
  }
  return new BoundedCluster([...nodes], options);
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
