import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import type { Database } from './client.js';
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
