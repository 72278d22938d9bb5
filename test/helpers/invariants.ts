import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import type { Db } from '../../src/db/client.js';
import { rows } from './sql.js';

/** What the database holds after a sale, once the invariants have passed. */
export interface SaleSummary {
  soldTickets: number;
  orders: number;
  liveOrderTickets: number;
}

/**
 * The invariants every concurrency test ends with, checked in SQL: each ticket sold at most once;
 * SOLD tickets and live order lines match one to one; every confirmed order has tickets and its
 * total is their sum, and a cancelled one holds none; no customer holds more than the event's limit,
 * and each limit counter equals the customer's live tickets.
 */
export async function expectSaleInvariants(db: Db): Promise<SaleSummary> {
  const soldTwice = await rows(
    db,
    sql`select ticket_id from order_tickets where released_at is null group by ticket_id having count(*) > 1`,
  );
  expect(soldTwice, 'a ticket belongs to two live orders').toEqual([]);

  const mismatched = await rows(
    db,
    sql`select t.id, t.status from tickets t
        left join order_tickets ot on ot.ticket_id = t.id and ot.released_at is null
        where (t.status = 'SOLD') <> (ot.ticket_id is not null)`,
  );
  expect(mismatched, 'SOLD tickets and live order lines differ').toEqual([]);

  const badOrders = await rows(
    db,
    sql`select o.id, o.status from orders o
        left join order_tickets ot on ot.order_id = o.id and ot.released_at is null
        group by o.id, o.status, o.total_cents
        having (o.status = 'CONFIRMED' and (count(ot.ticket_id) = 0 or o.total_cents <> coalesce(sum(ot.price_cents), 0)))
            or (o.status = 'CANCELLED' and count(ot.ticket_id) > 0)`,
  );
  expect(
    badOrders,
    'confirmed orders without tickets or with a wrong total, or cancelled ones still holding seats',
  ).toEqual([]);

  const overLimit = await rows(
    db,
    sql`select o.customer_id, o.event_id, count(*)::int as held, e.per_customer_limit
        from orders o join order_tickets ot on ot.order_id = o.id and ot.released_at is null
        join events e on e.id = o.event_id
        group by o.customer_id, o.event_id, e.per_customer_limit
        having e.per_customer_limit is not null and count(*) > e.per_customer_limit`,
  );
  expect(overLimit, 'a customer holds more tickets than the event allows').toEqual([]);

  const miscounted = await rows(
    db,
    sql`select c.customer_id, c.event_id, c.tickets, count(ot.ticket_id)::int as held
        from customer_event_tickets c
        left join orders o on o.customer_id = c.customer_id and o.event_id = c.event_id
        left join order_tickets ot on ot.order_id = o.id and ot.released_at is null
        group by c.customer_id, c.event_id, c.tickets
        having c.tickets <> count(ot.ticket_id)`,
  );
  expect(miscounted, "a limit counter differs from the customer's live tickets").toEqual([]);

  const [summary] = await rows<{ sold: number; orders: number; lines: number }>(
    db,
    sql`select (select count(*)::int from tickets where status = 'SOLD') as sold,
               (select count(*)::int from orders) as orders,
               (select count(*)::int from order_tickets where released_at is null) as lines`,
  );
  if (!summary) throw new Error('no summary row');
  return { soldTickets: summary.sold, orders: summary.orders, liveOrderTickets: summary.lines };
}
