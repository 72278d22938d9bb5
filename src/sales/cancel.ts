import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Viewer } from '../auth/tokens.js';
import { changedTicketColumns, releasedTicketValues } from '../catalog/ticket-change.js';
import type { Db } from '../db/client.js';
import { customerEventTicketsTable, eventsTable, ordersTable, orderTicketsTable, ticketsTable } from '../db/schema.js';
import { NotFoundError } from '../errors.js';
import type { TicketLock } from '../infra/ticket-lock.js';
import { OrderNotCancellableError } from './errors.js';
import type { Sale } from './settle.js';

/**
 * Cancels an order: an organizer may cancel any, a buyer their own until the event starts. In one
 * transaction the order is marked CANCELLED, its lines released, its seats set AVAILABLE with new
 * versions, and the buyer's count for the event lowered. Then the seats' Redis keys are cleared
 * (sold mark or a late holder's lock, see TicketLock.reopen). The caller publishes the changes, so
 * seat maps see the seats come back. Cancelling twice is harmless.
 *
 * @throws NotFoundError (no such order, or not yours) or OrderNotCancellableError.
 */
export async function cancelOrder(
  db: Db,
  deps: { lock: TicketLock; onLockError: (error: unknown) => void },
  input: { orderId: string; viewer: Viewer },
): Promise<Sale> {
  const { order, released } = await db.transaction(async (tx) => {
    const [row] = await tx
      .select({ order: ordersTable, startsAt: eventsTable.startsAt })
      .from(ordersTable)
      .innerJoin(eventsTable, eq(eventsTable.id, ordersTable.eventId))
      // A key's refusal tombstone (db/schema.ts) is not an order.
      .where(and(eq(ordersTable.id, input.orderId), isNull(ordersTable.refusal)))
      .for('update', { of: ordersTable });
    const organizer = input.viewer.role === 'organizer';
    if (!row || (!organizer && row.order.customerId !== input.viewer.customerId)) {
      throw new NotFoundError(input.orderId, 'Order');
    }
    if (row.order.status === 'CANCELLED') return { order: row.order, released: [] };
    if (!organizer && row.startsAt <= new Date()) {
      throw new OrderNotCancellableError(input.orderId, 'The event has started; only the organizer can cancel now.');
    }
    const [cancelled] = await tx
      .update(ordersTable)
      .set({ status: 'CANCELLED', cancelledAt: sql`now()` })
      .where(eq(ordersTable.id, input.orderId))
      .returning();
    const lines = await tx
      .update(orderTicketsTable)
      .set({ releasedAt: sql`now()` })
      .where(and(eq(orderTicketsTable.orderId, input.orderId), isNull(orderTicketsTable.releasedAt)))
      .returning({ ticketId: orderTicketsTable.ticketId });
    const ticketIds = lines.map((line) => line.ticketId);
    const tickets =
      ticketIds.length === 0
        ? []
        : await tx
            .update(ticketsTable)
            .set(releasedTicketValues)
            .where(and(inArray(ticketsTable.id, ticketIds), eq(ticketsTable.status, 'SOLD')))
            .returning(changedTicketColumns);
    await tx
      .update(customerEventTicketsTable)
      .set({ tickets: sql`greatest(${customerEventTicketsTable.tickets} - ${ticketIds.length}, 0)` })
      .where(
        and(
          eq(customerEventTicketsTable.customerId, row.order.customerId),
          eq(customerEventTicketsTable.eventId, row.order.eventId),
        ),
      );
    if (!cancelled) throw new Error('cancelOrder: update returned nothing');
    return { order: cancelled, released: tickets };
  });

  await Promise.all(
    released.map((ticket) =>
      deps.lock.reopen({ eventId: ticket.eventId, ticketId: ticket.id }).catch(deps.onLockError),
    ),
  );
  return { order, changed: released };
}
