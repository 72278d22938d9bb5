import { asc, eq } from 'drizzle-orm';
import { createEvent, type SectionLayout } from '../src/catalog/events.js';
import { loadConfig } from '../src/config.js';
import { createDatabase } from '../src/db/client.js';
import { migrateUrl } from '../src/db/migrate.js';
import { ticketsTable } from '../src/db/schema.js';
import { encodeGlobalId, ticketGlobalId } from '../src/graphql/global-id.js';
import type { RedisConnection } from '../src/infra/redis-client.js';
import { createRedisTicketLock } from '../src/infra/redis-ticket-lock.js';
import { adminSql, assertLoopback, databaseUrl, sleep } from './services.js';

/** A fresh database for one run, migrated by the project's own migrator. */
export interface LoadDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** The sale a run drives: one event and its tickets in seat-map order. */
export interface SeededSale {
  eventId: string;
  eventGlobalId: string;
  ticketIds: string[];
  ticketGlobalIds: string[];
}

/** Creates and migrates `flux_load_<label>`; `drop()` removes it (connections forced off). */
export async function createLoadDatabase(label: string): Promise<LoadDatabase> {
  const name = `flux_load_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}`;
  const url = databaseUrl(name);
  assertLoopback(url);
  const admin = adminSql();
  try {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end({ timeout: 2 });
  }
  await migrateUrl(url);
  return {
    name,
    url,
    async drop() {
      const dropper = adminSql();
      try {
        await dropper.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await dropper.end({ timeout: 2 });
      }
    },
  };
}

/** Rows of 100 seats, plus a short last row, so any venue size lays out as a real hall would. */
export function venueLayout(seats: number): SectionLayout[] {
  const perRow = Math.min(100, seats);
  const fullRows = Math.floor(seats / perRow);
  const rows = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `R${from + i + 1}`);
  const sections: SectionLayout[] = [{ name: 'Floor', rows: rows(fullRows), seatsPerRow: perRow, priceCents: 9900 }];
  const rest = seats - fullRows * perRow;
  if (rest > 0) sections.push({ name: 'Balcony', rows: ['B1'], seatsPerRow: rest, priceCents: 4900 });
  return sections;
}

/** The row lengths of {@link venueLayout}, in seat-map order: where a group of adjacent seats may lie. */
export function venueRows(seats: number): number[] {
  return venueLayout(seats).flatMap((section) =>
    section.generalAdmission
      ? [section.capacity]
      : Array.from(
          { length: typeof section.rows === 'number' ? section.rows : section.rows.length },
          () => section.seatsPerRow,
        ),
  );
}

/**
 * Seeds the sale through `createEvent`, as an organizer would, and reads back its ticket ids.
 * `perCustomerLimit` is the event's own (null, the default, is none); so is `holdMinutes` (null:
 * the servers' `HOLD_TTL_MS`).
 */
export async function seedSale(
  url: string,
  seats: number,
  {
    name = 'Flash sale',
    perCustomerLimit = null,
    holdMinutes = null,
    layout = venueLayout,
    marks,
  }: {
    name?: string;
    perCustomerLimit?: number | null;
    holdMinutes?: number | null;
    layout?: ((seats: number) => SectionLayout[]) | undefined;
    /** The servers' Redis and key prefix: the new event's seat marks are opened there, as the API's createEvent does. */
    marks?: { redis: RedisConnection; prefix: string } | undefined;
  } = {},
): Promise<SeededSale> {
  const database = await createDatabase({ url, poolSize: 2 });
  try {
    const lock = marks && createRedisTicketLock(marks.redis, marks.prefix, loadConfig({}));
    const event = {
      name: `${name} (${seats} seats)`,
      venue: 'Load Test Arena',
      startsAt: new Date(Date.now() + 30 * 24 * 3600 * 1000),
      perCustomerLimit,
      holdMinutes,
      sections: (layout ?? venueLayout)(seats),
    };
    const { eventId } = await createEvent(database.db, event, lock && ((id) => lock.openMarks(id)));
    const tickets = await database.db
      .select({ id: ticketsTable.id })
      .from(ticketsTable)
      .where(eq(ticketsTable.eventId, eventId))
      .orderBy(asc(ticketsTable.position));
    const ticketIds = tickets.map((t) => t.id);
    return {
      eventId,
      eventGlobalId: encodeGlobalId('Event', eventId),
      ticketIds,
      // Ticket ids carry their event (Ticket:<event>/<ticket>), so purchases need no event lookup.
      ticketGlobalIds: ticketIds.map((id) => ticketGlobalId({ id, eventId })),
    };
  } finally {
    await database.close();
  }
}

/** Postgres' own counters for one database. */
export interface DatabaseCounters {
  /** xact_commit + xact_rollback. */
  transactions: number;
  /** Sessions (connections) established so far. */
  sessions: number;
}

/**
 * What Postgres has counted for `dbName`. PG 15 flushes a backend's counters lazily (up to 10 s
 * after it goes idle), but always when it exits: read this only once every connection to the
 * database has closed ({@link waitForNoClients}).
 */
export async function databaseCounters(dbName: string): Promise<DatabaseCounters> {
  const sql = adminSql();
  try {
    const [row] = await sql<{ n: string; sessions: string }[]>`
      select xact_commit + xact_rollback as n, sessions from pg_stat_database where datname = ${dbName}`;
    return { transactions: Number(row?.n ?? 0), sessions: Number(row?.sessions ?? 0) };
  } finally {
    await sql.end({ timeout: 2 });
  }
}

/** Waits (at most `timeoutMs`) until no client backend is connected to `dbName`. */
export async function waitForNoClients(dbName: string, timeoutMs = 15_000): Promise<void> {
  const sql = adminSql();
  try {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const [row] = await sql<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity where datname = ${dbName} and backend_type = 'client backend'`;
      if ((row?.n ?? 0) === 0) {
        await sleep(200); // the exit flush runs just before the backend disappears; give it a beat
        return;
      }
      await sleep(100);
    }
    throw new Error(`clients still connected to ${dbName} after ${timeoutMs} ms`);
  } finally {
    await sql.end({ timeout: 2 });
  }
}
