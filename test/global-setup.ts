import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { migrateUrl } from '../src/db/migrate.js';
import { databaseUrl, PG_ADMIN_URL, TEMPLATE_PREFIX, TEST_REDIS_URL } from './helpers/services.js';

/** A template older than this belongs to a run that ended without its teardown. */
const ABANDONED_AFTER_MS = 3600_000;

/**
 * Runs once per `vitest run` of the integration project: proves Postgres and Redis answer (failing,
 * never skipping, when they do not), builds this run's migrated template, which every test database
 * is cloned from, and compiles `dist/` (the production start that process tests run). Returns the
 * teardown that drops the template.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
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
  const template = `${TEMPLATE_PREFIX}${Date.now()}_${randomBytes(3).toString('hex')}`;
  try {
    const templates = await admin<{ name: string }[]>`
      select datname as name from pg_database where datname like ${`${TEMPLATE_PREFIX}%`}`;
    for (const { name } of templates) {
      const madeAt = Number(name.slice(TEMPLATE_PREFIX.length).split('_')[0]);
      if (Date.now() - madeAt > ABANDONED_AFTER_MS) await admin.unsafe(`drop database if exists ${name} with (force)`);
    }
    await admin.unsafe(`create database ${template}`);
    await migrateUrl(databaseUrl(template));
  } finally {
    await admin.end();
  }
  project.provide('templateDatabase', template);
  return async () => {
    const dropper = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
    try {
      await dropper.unsafe(`drop database if exists ${template} with (force)`);
    } finally {
      await dropper.end();
    }
  };
}
