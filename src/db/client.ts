import { PGlite } from '@electric-sql/pglite';
import type { SQL } from 'drizzle-orm';
import { type PgDatabase, PgDialect, type PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { saveSnapshot, startMemoryPglite } from './pglite-snapshot.js';
import * as schema from './schema.js';

/** The Drizzle database (or transaction) that every service takes as its first argument. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/** A transaction handle; services that must run inside one take this. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** A connected database and what it takes to observe and close it. */
export interface Database {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** Statements sent to the server so far (postgres.js: every one on the wire, BEGIN included). */
  readonly stats: { queries: number };
  /**
   * PGlite only: the same database through a handle with statement counts of its own, for background
   * work (the hold sweeper) that must not show in the request path's counts. Closing it is a no-op.
   */
  share?: () => Database;
  /** In-memory PGlite started from scratch: call after migrating so the next start is quick. */
  saveSnapshot?: () => Promise<void>;
  close(): Promise<void>;
}

const rawDialect = new PgDialect();

/**
 * Runs a hand-written statement through Drizzle and returns its rows, whichever driver is behind `db`
 * (postgres.js gives an array, PGlite a result with `rows`). Values come as the driver sends them:
 * Drizzle leaves postgres.js timestamps and bigints as strings. The driver keeps the statement
 * prepared on each connection (postgres.js), so Postgres parses and plans it once per connection
 * rather than on every call, and a call is one round trip (an unnamed Drizzle query is neither).
 * `name` must stand for exactly one SQL text (parameters aside), since the driver keeps one prepared
 * statement per text and connection and never drops it. PGlite ignores it.
 */
export async function queryPreparedRows<Row>(db: Db, name: string, query: SQL): Promise<Row[]> {
  const prepared = db._.session.prepareQuery(rawDialect.sqlToQuery(query), undefined, name, false);
  return rowsOf<Row>(await prepared.execute());
}

/**
 * Runs a hand-written statement (unnamed, so its text may vary) through `db.execute` and returns its
 * rows, whichever driver is behind `db`.
 */
export async function executeRows<Row>(db: Db, query: SQL): Promise<Row[]> {
  return rowsOf<Row>(await db.execute(query));
}

/** A driver's result as rows: postgres.js gives an array, PGlite a result with `rows`. */
function rowsOf<Row>(result: unknown): Row[] {
  return (Array.isArray(result) ? result : (result as { rows: Row[] }).rows) as Row[];
}

/**
 * How long postgres.js waits before making a closed connection again, in seconds: 5-10 ms, doubling
 * with each failure the pool has counted since a connection last opened, up to 125-250 ms.
 * postgres.js' own default grows as 3^n up to 10-20 s, and its count is shared by the pool and
 * raised by every connection that closes with an error: when Postgres ends all of a pool's backends
 * at once, the last to close wait 10-20 s, and the pool hands new queries to closed connections
 * first, so requests stall that long after Postgres is back. Capped this low, a Postgres that is down
 * still sees only a few attempts a second per connection, and a request waits far less than
 * `DEPENDENCY_TIMEOUT_MS` before its own attempt fails it.
 */
export function reconnectDelaySeconds(failures: number): number {
  return Math.min(0.01 * 2 ** failures, 0.25) * (0.5 + Math.random() / 2);
}

/** Options for {@link createDatabase}; no `url` selects the embedded PGlite database. */
export interface DatabaseOptions {
  url?: string | undefined;
  poolSize?: number;
  /** Seconds a new Postgres connection may take (postgres.js `connect_timeout`); default 30. */
  connectTimeoutSeconds?: number;
  pgliteDataDir?: string | undefined;
}

/** Connects to Postgres over postgres.js, or starts PGlite in memory (or in a data directory). */
export async function createDatabase(options: DatabaseOptions): Promise<Database> {
  const stats = { queries: 0 };
  if (options.url) {
    const client = postgres(options.url, {
      max: options.poolSize ?? 10,
      connect_timeout: options.connectTimeoutSeconds ?? 30,
      backoff: reconnectDelaySeconds,
      onnotice: () => {},
      debug: () => {
        stats.queries++;
      },
    });
    const db = drizzlePostgres({ client, schema, casing: 'snake_case' }) as unknown as Db;
    return {
      db,
      kind: 'postgres',
      stats,
      close: () => client.end({ timeout: 5 }),
    };
  }
  let client: PGlite;
  let fromSnapshot = true;
  if (options.pgliteDataDir) {
    client = new PGlite(options.pgliteDataDir);
    await client.waitReady;
  } else {
    ({ client, fromSnapshot } = await startMemoryPglite());
  }
  const counted = (counts: { queries: number }) =>
    drizzlePglite({
      client,
      schema,
      casing: 'snake_case',
      logger: {
        logQuery: () => {
          counts.queries++;
        },
      },
    }) as unknown as Db;
  const share = (): Database => {
    const own = { queries: 0 };
    return { db: counted(own), kind: 'pglite', stats: own, share, close: async () => {} };
  };
  return {
    db: counted(stats),
    kind: 'pglite',
    stats,
    share,
    ...(fromSnapshot ? {} : { saveSnapshot: () => saveSnapshot(client) }),
    close: () => client.close(),
  };
}
