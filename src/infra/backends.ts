import type { Config } from '../config.js';
import { createDatabase, type Database } from '../db/client.js';
import { migrateDatabase, migrationsApplied } from '../db/migrate.js';
import { plainMessage } from '../logger.js';
import { type AttemptLimiter, createAttemptLimiter } from './attempt-limiter.js';
import { createMemoryKeyAttempts, type KeyAttempts } from './key-attempts.js';
import { createMemorySeatIndex } from './memory-seat-index.js';
import { createMemoryTicketLock } from './memory-ticket-lock.js';
import { closeRedis, createRedis, type RedisTarget } from './redis-client.js';
import { createRedisKeyAttempts } from './redis-key-attempts.js';
import { createRedisSeatIndex } from './redis-seat-index.js';
import { createRedisTicketLock } from './redis-ticket-lock.js';
import type { SeatIndex } from './seat-index.js';
import { createMemoryTicketChangeBus, createRedisTicketChangeBus, type TicketChangeBus } from './ticket-change-bus.js';
import type { TicketLock } from './ticket-lock.js';

/** The stateful infrastructure of one app instance: Postgres or PGlite, Redis or in-process. */
export interface Backends {
  database: Database;
  /**
   * Where the live hub reads a watched event's tickets (when its first seat map subscribes, and to
   * check its copy every few seconds): a pool of its own on Postgres, so those reads never queue
   * behind purchases; the same database on PGlite.
   */
  liveDatabase: Database;
  /** Where background work (the hold sweeper) runs: a one-connection pool of its own, or PGlite shared. */
  backgroundDatabase: Database;
  lock: TicketLock;
  /** What Redis (or, embedded, this process) remembers of each idempotency key's attempts. */
  keyAttempts: KeyAttempts;
  /** The per-event free-seat index (Redis, or in-process with the in-process lock). */
  seatIndex: SeatIndex;
  bus: TicketChangeBus;
  /** The per-customer purchase budget; undefined when turned off. */
  attempts: AttemptLimiter | undefined;
  /** Start-up time spent connecting (or, embedded, starting) the database, and on its migrations, in ms. */
  startupMs: { database: number; migrations: number };
  /** True when running on PGlite and in-process lock: one process only, not for production. */
  embedded: { database: boolean; redis: boolean };
  /** For readiness: Postgres answers and has every migration, Redis answers; each `ok` or why not. */
  checks(): Promise<Record<string, string>>;
  close(): Promise<void>;
}

/** Connections for the live hub's reads: two events' reads need not wait for each other. */
const LIVE_POOL_SIZE = 2;
/** The hold sweeper runs one statement at a time. */
const BACKGROUND_POOL_SIZE = 1;

/** Connects (or starts) the backends the config names and applies pending migrations. */
export async function createBackends(
  config: Config,
  failure: (kind: string, error: unknown) => void,
): Promise<Backends> {
  const onError = (error: unknown) => failure('redis pub/sub error', error);
  const databaseStart = performance.now();
  const connectTimeoutSeconds = Math.max(1, Math.ceil(config.dependencyTimeoutMs / 1000));
  const database = await createDatabase({
    connectTimeoutSeconds,
    url: config.databaseUrl,
    poolSize: config.databasePoolSize,
    pgliteDataDir: config.pgliteDataDir,
  });
  const closers: Array<() => Promise<void>> = [() => database.close()];
  try {
    const migrationStart = performance.now();
    await migrateDatabase(database, config.databaseUrl);
    const startupMs = { database: migrationStart - databaseStart, migrations: performance.now() - migrationStart };
    await database.saveSnapshot?.().catch((error: unknown) => onError(error));
    const liveDatabase = config.databaseUrl
      ? await createDatabase({ url: config.databaseUrl, poolSize: LIVE_POOL_SIZE, connectTimeoutSeconds })
      : database;
    if (liveDatabase !== database) closers.unshift(() => liveDatabase.close());
    const backgroundDatabase =
      database.share?.() ??
      (await createDatabase({ url: config.databaseUrl, poolSize: BACKGROUND_POOL_SIZE, connectTimeoutSeconds }));
    closers.unshift(() => backgroundDatabase.close());
    const timings = { lockTtlMs: config.lockTtlMs, soldMarkTtlMs: config.soldMarkTtlMs };
    const keyTimings = { lockTtlMs: config.lockTtlMs, windowMs: config.idempotencyWindowMs };
    let lock: TicketLock;
    let keyAttempts: KeyAttempts;
    let seatIndex: SeatIndex;
    let bus: TicketChangeBus;
    let attempts: AttemptLimiter | undefined;
    let pingRedis: (() => Promise<unknown>) | undefined;
    const budget = { points: config.purchaseRateLimit, windowSeconds: config.purchaseRateWindowSeconds };
    const redisTarget = redisTargetOf(config);
    if (redisTarget) {
      // Named after the key prefix, so CLIENT LIST shows which deployment holds a connection.
      const name = (role: string) => `${config.redisKeyPrefix}${role}`;
      const options = {
        commandTimeoutMs: config.dependencyTimeoutMs,
        onError: (error: unknown) => failure('redis connection error', error),
      };
      const redis = createRedis(redisTarget, name('commands'), options);
      const publisher = createRedis(redisTarget, name('publisher'), options);
      const subscriber = createRedis(redisTarget, name('subscriber'), options, 'subscriber');
      closers.unshift(
        () => closeRedis(redis),
        () => closeRedis(publisher),
        () => closeRedis(subscriber),
      );
      pingRedis = () => redis.ping();
      lock = createRedisTicketLock(redis, config.redisKeyPrefix, timings);
      keyAttempts = createRedisKeyAttempts(redis, config.redisKeyPrefix, keyTimings);
      seatIndex = createRedisSeatIndex(redis, config.redisKeyPrefix, config.lockTtlMs);
      bus = createRedisTicketChangeBus({ publisher, subscriber }, config.redisKeyPrefix, onError);
      attempts = createAttemptLimiter(budget, { redis, keyPrefix: config.redisKeyPrefix });
    } else {
      const memoryIndex = createMemorySeatIndex(() => lock);
      lock = createMemoryTicketLock(timings, Date.now, (seat) => memoryIndex.freed(seat));
      keyAttempts = createMemoryKeyAttempts(keyTimings);
      seatIndex = memoryIndex;
      bus = createMemoryTicketChangeBus();
      attempts = createAttemptLimiter(budget, undefined);
    }
    closers.unshift(
      () => lock.close(),
      () => keyAttempts.close(),
    );
    const within = (check: Promise<string>) => withTimeout(check, config.dependencyTimeoutMs);
    const checks = async () => ({
      postgres: await within(migrationsApplied(database).then((ok) => (ok ? 'ok' : 'migrations not applied'))),
      redis: pingRedis ? await within(pingRedis().then(() => 'ok')) : 'ok',
    });
    return {
      checks,
      database,
      liveDatabase,
      backgroundDatabase,
      lock,
      keyAttempts,
      seatIndex,
      bus,
      attempts,
      startupMs,
      embedded: { database: !config.databaseUrl, redis: !redisTarget },
      close: () => closeAll(closers),
    };
  } catch (error) {
    await closeAll(closers);
    throw error;
  }
}

/** The Redis the config names: a cluster, one server, or none (embedded). */
function redisTargetOf(config: Config): RedisTarget | undefined {
  if (config.redisClusterNodes) return { clusterNodes: config.redisClusterNodes };
  return config.redisUrl ? { url: config.redisUrl } : undefined;
}

/** `check`'s answer, its error's message, or `timed out` after `ms`. */
async function withTimeout(check: Promise<string>, ms: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`timed out after ${ms} ms`), ms);
  });
  try {
    return await Promise.race([check.catch((error: unknown) => plainMessage(error)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function closeAll(closers: Array<() => Promise<void>>): Promise<void> {
  for (const close of closers) await close();
}
