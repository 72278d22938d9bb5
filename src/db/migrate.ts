import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { type Database, executeRows } from './client.js';
import { MIGRATIONS_FOLDER } from './project-root.js';

/** Any 64-bit constant shared by every instance: the advisory lock that serialises migrations. */
const MIGRATION_LOCK_KEY = 4_242_001;

/**
 * Applies pending migrations to a Postgres URL. Instances that start together queue on a session
 * advisory lock held on the migrating connection, so exactly one applies each migration.
 */
export async function migrateUrl(url: string): Promise<void> {
  const client = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    await migratePostgres(drizzlePostgres({ client }), { migrationsFolder: MIGRATIONS_FOLDER });
    await client`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
  } finally {
    await client.end({ timeout: 5 });
  }
}

/** Applies pending migrations to whichever database the app runs on. */
export async function migrateDatabase(database: Database, url: string | undefined): Promise<void> {
  if (database.kind === 'postgres') {
    if (!url) throw new Error('migrateDatabase: a Postgres database needs its URL');
    await migrateUrl(url);
    return;
  }
  // PGlite lives inside this process, so there is nobody to race.
  await migratePglite(database.db as unknown as PgliteDatabase, { migrationsFolder: MIGRATIONS_FOLDER });
}

/**
 * Whether every committed migration is applied to this database: the count of rows in Drizzle's
 * migrations table against the journal's entries (a newer instance may have added some; fewer means
 * this database is behind the code).
 */
export async function migrationsApplied(database: Database): Promise<boolean> {
  const journal = JSON.parse(await readFile(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as {
    entries: unknown[];
  };
  const rows = await executeRows<{ applied: number }>(
    database.db,
    sql`select count(*)::int as applied from drizzle.__drizzle_migrations`,
  );
  return (rows[0]?.applied ?? 0) >= journal.entries.length;
}
