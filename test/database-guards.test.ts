import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent } from '../src/catalog/events.js';
import { createDatabase, type Database } from '../src/db/client.js';
import { TicketsUnavailableError } from '../src/sales/errors.js';
import { explainRefusal } from '../src/sales/refusal.js';
import { commitSale } from '../src/sales/sale-transaction.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { expectSaleInvariants } from './helpers/invariants.js';

// With no lock at all, Postgres alone must still sell each ticket once.
describe('Postgres refuses a second sale on its own', () => {
  let testDb: TestDatabase;
  let database: Database;
  let ticketId: string;
  let eventId: string;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    database = await createDatabase({ url: testDb.url, poolSize: 20 });
    ({ eventId } = await createEvent(database.db, {
      name: 'No Locks',
      venue: 'Bare Hall',
      startsAt: new Date('2030-01-01T00:00:00Z'),
      sections: [{ name: 'S', rows: ['1'], seatsPerRow: 1, priceCents: 100 }],
    }));
    const [row] = await testDb.sql<{ id: string }[]>`select id from tickets where event_id = ${eventId}`;
    ticketId = row?.id ?? '';
  });
  afterAll(async () => {
    await database?.close();
    await testDb?.drop();
  });

  it('the conditional write lets exactly 1 of 50 lock-free transactions sell a ticket', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        commitSale(database.db, { eventId, ticketIds: [ticketId], customerId: `raw-${i}` }),
      ),
    );
    expect(outcomes.filter((o) => o.kind === 'sold')).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === 'refused')).toHaveLength(49);
    const why = await explainRefusal(database.db, { eventId, ticketIds: [ticketId], customerId: 'x' }, new Date());
    expect(why).toBeInstanceOf(TicketsUnavailableError);
    expect((why as TicketsUnavailableError).tickets.map((t) => t.reason)).toEqual(['SOLD']);
    expect((await expectSaleInvariants(database.db)).orders).toBe(1);
  });

  it('the unique index refuses a second live order line for a sold ticket, even from hand-written SQL', async () => {
    await testDb.sql`insert into customers (id) values ('sneaky') on conflict do nothing`;
    const [order] = await testDb.sql<{ id: string }[]>`
      insert into orders (customer_id, event_id, total_cents)
      select 'sneaky', event_id, 0 from tickets where id = ${ticketId} returning id`;
    await expect(
      testDb.sql`insert into order_tickets (order_id, ticket_id, price_cents) values (${order?.id ?? ''}, ${ticketId}, 0)`,
    ).rejects.toThrow(/order_tickets_live_ticket_uq/);
  });
});
