import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import {
  customersTable,
  type OrderRow,
  ordersTable,
  orderTicketsTable,
  type TicketStatus,
  ticketsTable,
} from '../db/schema.js';

/** The SET of every write that sells a ticket: a new version and the moment it changed. */
export const soldTicketValues = {
  status: 'SOLD',
  version: sql`nextval('ticket_version_seq')`,
  statusChangedAt: sql`clock_timestamp()`,
} as const;

/** The SET of a write that puts a sold ticket back on sale (a cancelled order). */
export const releasedTicketValues = {
  status: 'AVAILABLE',
  version: sql`nextval('ticket_version_seq')`,
  statusChangedAt: sql`clock_timestamp()`,
} as const;

/** The columns of a status change that listeners are told about. */
export const changedTicketColumns = {
  id: ticketsTable.id,
  eventId: ticketsTable.eventId,
  status: ticketsTable.status,
  version: ticketsTable.version,
  statusChangedAt: ticketsTable.statusChangedAt,
};

/** The ticket as it stands right after a committed status change. */
export interface ChangedTicket {
  id: string;
  eventId: string;
  status: TicketStatus;
  version: number;
  statusChangedAt: Date | null;
}

/** Creates the customer row on a first purchase; the id is the token's `sub`. */
export async function ensureCustomer(tx: Tx, customerId: string): Promise<void> {
  await tx.insert(customersTable).values({ id: customerId }).onConflictDoNothing();
}

/**
 * Writes the order and its lines inside a sale's transaction (after {@link ensureCustomer}). The
 * partial unique index on order_tickets refuses a second live line for any ticket.
 */
export async function insertOrder(
  tx: Tx,
  input: {
    customerId: string;
    eventId: string;
    lines: Array<{ ticketId: string; priceCents: number }>;
    idempotencyKey?: string | undefined;
  },
): Promise<OrderRow> {
  const [order] = await tx
    .insert(ordersTable)
    .values({
      id: randomUUID(),
      customerId: input.customerId,
      eventId: input.eventId,
      totalCents: input.lines.reduce((sum, line) => sum + line.priceCents, 0),
      idempotencyKey: input.idempotencyKey,
    })
    .returning();
  if (!order) throw new Error('insertOrder: order insert returned nothing');
  await tx.insert(orderTicketsTable).values(input.lines.map((line) => ({ orderId: order.id, ...line })));
  return order;
}
