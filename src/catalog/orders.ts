import { and, desc, eq, inArray, isNull } from 'drizzle-orm';
import type { Page } from '../catalog/storage.js';
import type { Db } from '../db/client.js';
import { type OrderRow, ordersTable, orderTicketsTable, type TicketRow, ticketsTable } from '../db/schema.js';

/** A customer's orders, newest first. */
export function ordersOfCustomer(db: Db, customerId: string, page: Page): Promise<OrderRow[]> {
  return db
    .select()
    .from(ordersTable)
    .where(eq(ordersTable.customerId, customerId))
    .orderBy(desc(ordersTable.createdAt), desc(ordersTable.id))
    .offset(page.offset)
    .limit(page.limit);
}

/** Orders by id that belong to `customerId`; other customers' orders are simply not returned. */
export function ordersOfCustomerByIds(db: Db, customerId: string, ids: readonly string[]): Promise<OrderRow[]> {
  return db
    .select()
    .from(ordersTable)
    .where(and(eq(ordersTable.customerId, customerId), inArray(ordersTable.id, [...ids])));
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
