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
 * and each limit counter equals the customer's live tickets (bought, and kept by active holds); a
 * seat is HELD exactly when an active hold keeps it, is in at most one active hold, never in both an
 * active hold and a live order, and every checkout's order has exactly its hold's seats; an
 * idempotency key's refusal tombstone (db/schema.ts) holds no seat and is no live order or hold, and
 * is not counted among the orders.
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
    sql`select c.customer_id, c.event_id, c.tickets,
          (select count(*)::int from orders o join order_tickets ot on ot.order_id = o.id and ot.released_at is null
            where o.customer_id = c.customer_id and o.event_id = c.event_id) as bought,
          (select count(*)::int from holds h join tickets t on t.hold_id = h.id
            where h.customer_id = c.customer_id and h.event_id = c.event_id and h.status = 'ACTIVE') as held
        from customer_event_tickets c`,
  );
  expect(
    miscounted.filter((row) => row.tickets !== Number(row.bought) + Number(row.held)),
    "a limit counter differs from the customer's live tickets (bought, and kept by active holds)",
  ).toEqual([]);

  const overLimitWithHolds = await rows(
    db,
    sql`select c.customer_id, c.event_id, c.tickets, e.per_customer_limit from customer_event_tickets c
        join events e on e.id = c.event_id
        where e.per_customer_limit is not null and c.tickets > e.per_customer_limit`,
  );
  expect(overLimitWithHolds, 'a customer holds and owns more tickets than the event allows').toEqual([]);

  const badHolds = await rows(
    db,
    sql`select t.id, t.status, h.status as hold_status from tickets t left join holds h on h.id = t.hold_id
        where (t.status = 'HELD') <> (h.status is not distinct from 'ACTIVE')`,
  );
  expect(badHolds, 'a HELD seat without an active hold, or a seat kept by an ended hold').toEqual([]);

  const heldTwice = await rows(
    db,
    sql`select ht.ticket_id from hold_tickets ht join holds h on h.id = ht.hold_id
        where h.status = 'ACTIVE' group by ht.ticket_id having count(*) > 1`,
  );
  expect(heldTwice, 'a seat in two active holds').toEqual([]);

  const heldAndSold = await rows(
    db,
    sql`select ht.ticket_id from hold_tickets ht join holds h on h.id = ht.hold_id and h.status = 'ACTIVE'
        join order_tickets ot on ot.ticket_id = ht.ticket_id and ot.released_at is null`,
  );
  expect(heldAndSold, 'a seat in both an active hold and a live order').toEqual([]);

  const badCheckouts = await rows(
    db,
    sql`select h.id from holds h
        where h.status = 'CHECKED_OUT' and (h.order_id is null or
          (select array_agg(ticket_id order by ticket_id) from hold_tickets where hold_id = h.id) is distinct from
          (select array_agg(ticket_id order by ticket_id) from order_tickets where order_id = h.order_id))`,
  );
  expect(badCheckouts, "an order made by checkout without exactly its hold's seats").toEqual([]);

  const badTombstones = await rows(
    db,
    sql`select o.id from orders o where o.refusal is not null
          and (o.status <> 'CANCELLED' or exists (select 1 from order_tickets ot where ot.order_id = o.id))
        union all
        select h.id from holds h where h.refusal is not null
          and (h.status <> 'RELEASED' or exists (select 1 from hold_tickets ht where ht.hold_id = h.id))`,
  );
  expect(badTombstones, "a key's refusal tombstone that holds seats or is a live order or hold").toEqual([]);

  const [summary] = await rows<{ sold: number; orders: number; lines: number }>(
    db,
    sql`select (select count(*)::int from tickets where status = 'SOLD') as sold,
               (select count(*)::int from orders where refusal is null) as orders,
               (select count(*)::int from order_tickets where released_at is null) as lines`,
  );
  if (!summary) throw new Error('no summary row');
  return { soldTickets: summary.sold, orders: summary.orders, liveOrderTickets: summary.lines };
}
