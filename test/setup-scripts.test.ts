import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { test as base, describe, expect } from 'vitest';
import { seedDemoEvent } from '../src/catalog/demo.js';
import { createDatabase } from '../src/db/client.js';
import { migrateUrl } from '../src/db/migrate.js';
import { databaseUrl, PG_ADMIN_URL } from './helpers/services.js';

const run = promisify(execFile);

/** The URL of an empty database (not a clone of the migrated template): migrations start from nothing. */
// biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern.
const it = base.extend('url', { scope: 'file' }, async ({}, { onCleanup }) => {
  const name = `flux_test_blank_${randomBytes(4).toString('hex')}`;
  const admin = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  onCleanup(async () => {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  });
  return databaseUrl(name);
});

describe('migrations, seed and the schema file', () => {
  it('four instances migrating an empty database at once apply each migration exactly once', async ({ url }) => {
    await Promise.all([migrateUrl(url), migrateUrl(url), migrateUrl(url), migrateUrl(url)]);
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const applied = await sql`select count(*)::int as n from drizzle.__drizzle_migrations`;
      const files = await import('../drizzle/meta/_journal.json', { with: { type: 'json' } });
      expect(applied[0]?.n).toBe(files.default.entries.length);
    } finally {
      await sql.end();
    }
  });

  it('seeds a demo event of at least 500 seats in several sections, and a second seed duplicates nothing', async ({
    url,
    onTestFinished,
  }) => {
    const database = await createDatabase({ url, poolSize: 2 });
    onTestFinished(() => database.close());
    const first = await seedDemoEvent(database.db);
    const second = await seedDemoEvent(database.db);
    expect(first.ticketsCreated).toBeGreaterThanOrEqual(500);
    expect(second).toEqual({ eventId: first.eventId, ticketsCreated: 0 });
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const [counts] = await sql`select count(*)::int as tickets, count(distinct section)::int as sections,
        (select count(*)::int from events) as events from tickets`;
      expect(counts).toEqual({ tickets: first.ticketsCreated, sections: 4, events: 1 });
    } finally {
      await sql.end();
    }
  });

  it('schema/schema.graphql matches the schema the code builds', async () => {
    const { stdout } = await run('npx', ['tsx', 'src/scripts/print-schema.ts', '--check']);
    expect(stdout).toContain('up to date');
  });
});
