import { and, asc, desc, eq, inArray, isNull, type SQL, sql } from 'drizzle-orm';
import type { KeysetPage } from '../catalog/keyset-page.js';
import type { Db } from '../db/client.js';
import { type OrderRow, ordersTable, orderTicketsTable, type TicketRow, ticketsTable } from '../db/schema.js';

/** `(createdAt, id)` beyond the order named `id`, compared with that row's own values (to the microsecond). */
function beyondOrder(compare: '>' | '<', id: string): SQL {
  return sql`(${ordersTable.createdAt}, ${ordersTable.id}) ${sql.raw(compare)} (select o.created_at, o.id from orders o where o.id = ${id})`;
}

/**
 * A customer's orders, newest first (ties by id): a keyset page keyed by order id. Here and below,
 * an idempotency key's refusal tombstone (`refusal` set, db/schema.ts) is not an order.
 */
export function ordersOfCustomer(db: Db, customerId: string, page: KeysetPage<string>): Promise<OrderRow[]> {
  // Newest first: "after" a cursor is older than it.
  const order = page.inverted ? asc : desc;
  return db
    .select()
    .from(ordersTable)
    .where(
      and(
        eq(ordersTable.customerId, customerId),
        isNull(ordersTable.refusal),
        page.after === undefined ? undefined : beyondOrder('<', page.after),
        page.before === undefined ? undefined : beyondOrder('>', page.before),
      ),
    )
    .orderBy(order(ordersTable.createdAt), order(ordersTable.id))
    .limit(page.limit);
}

/** Orders by id that belong to `customerId`; other customers' orders are simply not returned. */
export function ordersOfCustomerByIds(db: Db, customerId: string, ids: readonly string[]): Promise<OrderRow[]> {
  return db
    .select()
    .from(ordersTable)
    .where(and(eq(ordersTable.customerId, customerId), inArray(ordersTable.id, [...ids]), isNull(ordersTable.refusal)));
}

/** The live (not released) tickets of each order, in seat-map order. */
export async function ticketsOfOrders(db: Db, orderIds: readonly string[]): Promise<Map<string, TicketRow[]>> {
  const rows = await db
    .select({ orderId: orderTicketsTable.orderId, ticket: ticketsTable })
    .from(orderTicketsTable)
    .innerJoin(ticketsTable, eq(ticketsTable.id, orderTicketsTable.ticketId))
    .where(and(inArray(orderTicketsTable.orderId, [...orderIds]), isNull(orderTicketsTable.releasedAt)))
    .orderBy(ticketsTable.position);
  const result = new Map<string, TicketRow[]>(orderIds.map((id) => [id, []]));
  for (const row of rows) result.get(row.orderId)?.push(row.ticket);
  return result;
}
