import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { describe, expect } from 'vitest';
import { createEvent } from '../src/catalog/events.js';
import type { Db } from '../src/db/client.js';
import * as schema from '../src/db/schema.js';
import { explainRefusal } from '../src/sales/refusal.js';
import { commitSale } from '../src/sales/sale-transaction.js';
import { test } from './helpers/fixtures.js';

interface PlanNode {
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

/** Every index the plan reads table `relation` through. */
function indexesOn(node: PlanNode, relation: string): string[] {
  const own = node['Relation Name'] === relation && node['Index Name'] ? [node['Index Name']] : [];
  return [...own, ...(node.Plans ?? []).flatMap((child) => indexesOn(child, relation))];
}

// On a table Postgres has no statistics for (a fresh one, or a new event's seats before ANALYZE),
// the planner used to answer `id IN (…) AND event_id = …` through tickets_event_status_idx and walk
// every seat of the event: ~1.25 ms of Postgres CPU per sale in a 10,000-seat rush, ~0.45 ms by key.
/**
 * A client on the file's database that records every statement it sends, and a 3,000-seat event
 * made through it.
 */
const it = test.extend('recorded', { scope: 'file' }, async ({ database }, { onCleanup }) => {
  const sent: { text: string; parameters: unknown[] }[] = [];
  const client = postgres(database.url, {
    max: 1,
    onnotice: () => {},
    debug: (_connection, text, parameters) => sent.push({ text, parameters }),
  });
  onCleanup(() => client.end({ timeout: 5 }));
  const db = drizzle({ client, schema, casing: 'snake_case' }) as unknown as Db;
  const { eventId } = await createEvent(db, {
    name: 'Planner',
    venue: 'Hall',
    startsAt: new Date('2030-01-01T00:00:00Z'),
    sections: [{ name: 'S', rows: 30, seatsPerRow: 100, priceCents: 100 }],
  });
  const rows = await database.sql<{ id: string }[]>`select id from tickets where event_id = ${eventId} limit 2`;
  return { db, sent, eventId, ticketIds: rows.map((row) => row.id) };
});

describe('the purchase finds its seats by primary key, with no statistics to go on', () => {
  it('in the sale statement and in the read that explains a refusal', async ({
    database,
    recorded: { db, sent, eventId, ticketIds },
  }) => {
    const [analyzed] = await database.sql<{ n: number }[]>`
      select count(*)::int as n from pg_stat_user_tables where relname = 'tickets' and coalesce(last_analyze, last_autoanalyze) is not null`;
    expect(analyzed?.n).toBe(0);

    sent.length = 0;
    const request = { eventId, ticketIds: [ticketIds[0] as string], customerId: 'planner' };
    expect((await commitSale(db, request)).kind).toBe('sold');
    await explainRefusal(db, request, new Date());
    const seatReads = sent.filter(({ text }) => /\bfrom ("tickets"|tickets t) /.test(text));
    expect(seatReads).toHaveLength(2);

    for (const { text, parameters } of seatReads) {
      const [row] = await database.sql.unsafe<{ 'QUERY PLAN': [{ Plan: PlanNode }] }[]>(
        `explain (format json) ${text}`,
        parameters as postgres.ParameterOrJSON<never>[],
      );
      const indexes = indexesOn(row?.['QUERY PLAN'][0].Plan ?? {}, 'tickets');
      expect(indexes.length, text).toBeGreaterThan(0);
      expect(new Set(indexes), text).toEqual(new Set(['tickets_pkey']));
    }
  });
});
