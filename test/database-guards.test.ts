import { describe, expect } from 'vitest';
import { createEvent } from '../src/catalog/events.js';
import { createDatabase } from '../src/db/client.js';
import { TicketsUnavailableError } from '../src/sales/errors.js';
import { explainRefusal } from '../src/sales/refusal.js';
import { commitSale } from '../src/sales/sale-transaction.js';
import { test } from './helpers/fixtures.js';
import { expectSaleInvariants } from './helpers/invariants.js';

/** A pool of 20 connections on the file's database, with no app and no lock, and an event of one seat. */
const it = test.extend('bare', { scope: 'file' }, async ({ database }, { onCleanup }) => {
  const pool = await createDatabase({ url: database.url, poolSize: 20 });
  onCleanup(() => pool.close());
  const { eventId } = await createEvent(pool.db, {
    name: 'No Locks',
    venue: 'Bare Hall',
    startsAt: new Date('2030-01-01T00:00:00Z'),
    sections: [{ name: 'S', rows: ['1'], seatsPerRow: 1, priceCents: 100 }],
  });
  const [row] = await database.sql<{ id: string }[]>`select id from tickets where event_id = ${eventId}`;
  return { db: pool.db, eventId, ticketId: row?.id ?? '' };
});

// With no lock at all, Postgres alone must still sell each ticket once.
describe('Postgres refuses a second sale on its own', () => {
  it('the conditional write lets exactly 1 of 50 lock-free transactions sell a ticket', async ({
    bare: { db, eventId, ticketId },
  }) => {
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, (_, i) => commitSale(db, { eventId, ticketIds: [ticketId], customerId: `raw-${i}` })),
    );
    expect(outcomes.filter((o) => o.kind === 'sold')).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === 'refused')).toHaveLength(49);
    const why = await explainRefusal(db, { eventId, ticketIds: [ticketId], customerId: 'x' }, new Date());
    expect(why).toBeInstanceOf(TicketsUnavailableError);
    expect((why as TicketsUnavailableError).tickets.map((t) => t.reason)).toEqual(['SOLD']);
    expect((await expectSaleInvariants(db)).orders).toBe(1);
  });

  it('the unique index refuses a second live order line for a sold ticket, even from hand-written SQL', async ({
    database,
    bare: { ticketId },
  }) => {
    await database.sql`insert into customers (id) values ('sneaky') on conflict do nothing`;
    const [order] = await database.sql<{ id: string }[]>`
      insert into orders (customer_id, event_id, total_cents)
      select 'sneaky', event_id, 0 from tickets where id = ${ticketId} returning id`;
    await expect(
      database.sql`insert into order_tickets (order_id, ticket_id, price_cents) values (${order?.id ?? ''}, ${ticketId}, 0)`,
    ).rejects.toThrow(/order_tickets_live_ticket_uq/);
  });
});
