import { execFileSync } from 'node:child_process';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { migrateUrl } from '../src/db/migrate.js';
import { databaseUrl, PG_ADMIN_URL, TEMPLATE_DATABASE, TEST_REDIS_URL } from './helpers/services.js';

/**
 * Runs once per `vitest run`: proves Postgres and Redis answer (failing, never skipping, when
 * they do not), builds the migrated template every test database is cloned from, and compiles
 * `dist/` (the production start that process tests run).
 */
export default async function setup(): Promise<void> {
  execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
  const admin = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    await admin`select 1`;
  } catch (error) {
    throw new Error(
      `Postgres is not reachable at ${PG_ADMIN_URL}; start it (see README) or set TEST_DATABASE_URL. ${String(error)}`,
    );
  }
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 3000 });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(
      `Redis is not reachable at ${TEST_REDIS_URL}; start it (see README) or set TEST_REDIS_URL. ${String(error)}`,
    );
  } finally {
    redis.disconnect();
  }
  try {
    await admin.unsafe(`drop database if exists ${TEMPLATE_DATABASE} with (force)`);
    await admin.unsafe(`create database ${TEMPLATE_DATABASE}`);
    await migrateUrl(databaseUrl(TEMPLATE_DATABASE));
  } finally {
    await admin.end();
  }
}
