import type { Config } from '../config.js';
import { createDatabase, type Database } from '../db/client.js';
import { migrateDatabase } from '../db/migrate.js';
import { type AttemptLimiter, createAttemptLimiter } from './attempt-limiter.js';
import { createMemoryTicketLock } from './memory-ticket-lock.js';
import { closeRedis, createRedis } from './redis-client.js';
import { createRedisTicketLock } from './redis-ticket-lock.js';
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
  bus: TicketChangeBus;
  /** The per-customer purchase budget; undefined when turned off. */
  attempts: AttemptLimiter | undefined;
  /** Start-up time spent connecting (or, embedded, starting) the database, and on its migrations, in ms. */
  startupMs: { database: number; migrations: number };
  /** True when running on PGlite and in-process lock: one process only, not for production. */
  embedded: { database: boolean; redis: boolean };
  close(): Promise<void>;
}

/** Connections for the live hub's reads: two events' reads need not wait for each other. */
const LIVE_POOL_SIZE = 2;
/** The hold sweeper runs one statement at a time. */
const BACKGROUND_POOL_SIZE = 1;

/** Connects (or starts) the backends the config names and applies pending migrations. */
export async function createBackends(config: Config, onError: (error: unknown) => void): Promise<Backends> {
  const databaseStart = performance.now();
  const database = await createDatabase({
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
      ? await createDatabase({ url: config.databaseUrl, poolSize: LIVE_POOL_SIZE })
      : database;
    if (liveDatabase !== database) closers.unshift(() => liveDatabase.close());
    const backgroundDatabase =
      database.share?.() ?? (await createDatabase({ url: config.databaseUrl, poolSize: BACKGROUND_POOL_SIZE }));
    closers.unshift(() => backgroundDatabase.close());
    const timings = { lockTtlMs: config.lockTtlMs, soldMarkTtlMs: config.soldMarkTtlMs };
    let lock: TicketLock;
    let bus: TicketChangeBus;
    let attempts: AttemptLimiter | undefined;
    const budget = { points: config.purchaseRateLimit, windowSeconds: config.purchaseRateWindowSeconds };
    if (config.redisUrl) {
      // Named after the key prefix, so CLIENT LIST shows which deployment holds a connection.
      const name = (role: string) => `${config.redisKeyPrefix}${role}`;
      const redis = createRedis(config.redisUrl, name('commands'));
      const publisher = createRedis(config.redisUrl, name('publisher'));
      const subscriber = createRedis(config.redisUrl, name('subscriber'));
      closers.unshift(
        () => closeRedis(redis),
        () => closeRedis(publisher),
        () => closeRedis(subscriber),
      );
      lock = createRedisTicketLock(redis, config.redisKeyPrefix, timings);
      bus = createRedisTicketChangeBus({ publisher, subscriber }, config.redisKeyPrefix, onError);
      attempts = createAttemptLimiter(budget, { redis, keyPrefix: config.redisKeyPrefix });
    } else {
      lock = createMemoryTicketLock(timings);
      bus = createMemoryTicketChangeBus();
      attempts = createAttemptLimiter(budget, undefined);
    }
    closers.unshift(() => lock.close());
    return {
      database,
      liveDatabase,
      backgroundDatabase,
      lock,
      bus,
      attempts,
      startupMs,
      embedded: { database: !config.databaseUrl, redis: !config.redisUrl },
      close: () => closeAll(closers),
    };
  } catch (error) {
    await closeAll(closers);
    throw error;
  }
}

async function closeAll(closers: Array<() => Promise<void>>): Promise<void> {
  for (const close of closers) await close();
}
