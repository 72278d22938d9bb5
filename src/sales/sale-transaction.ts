import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import { customerEventTicketsTable, eventsTable, type OrderRow, ordersTable, ticketsTable } from '../db/schema.js';
import { type ChangedTicket, changedTicketColumns, ensureCustomer, insertOrder, soldTicketValues } from './storage.js';

/** One all-or-nothing sale of some seats of one event to one customer. */
export interface SaleRequest {
  eventId: string;
  /** Distinct, sorted: rows are locked in this order, so overlapping sales cannot deadlock. */
  ticketIds: string[];
  customerId: string;
  idempotencyKey?: string | undefined;
}

export type SaleResult =
  | { kind: 'sold'; order: OrderRow; tickets: ChangedTicket[] }
  /** The customer already made this purchase with this idempotency key. */
  | { kind: 'duplicate'; order: OrderRow }
  | { kind: 'limit'; limit: number; held: number }
  /** Some seat was not AVAILABLE, the sale was not open, or an id named nothing: ask `whyRefused`. */
  | { kind: 'refused' };

/** Thrown inside the transaction to roll it back with a result. */
class Rollback {
  constructor(readonly result: SaleResult) {}
}

const saleIsOpen = sql`(${eventsTable.saleOpensAt} is null or ${eventsTable.saleOpensAt} <= now())
  and (${eventsTable.saleClosesAt} is null or now() < ${eventsTable.saleClosesAt})`;

/**
 * The purchase transaction. Every rule is enforced here, in SQL, whatever any lock or cache said:
 * the seats change only if all are AVAILABLE and the sale is open (one conditional UPDATE); the
 * customer's count for the event rises only if it stays within the limit (a conditional upsert on a
 * row that serialises that customer's purchases); the idempotency key is unique per customer.
 * Any refusal rolls everything back.
 */
export async function commitSale(db: Db, request: SaleRequest): Promise<SaleResult> {
  try {
    return await db.transaction(async (tx) => {
      const sold = await tx
        .update(ticketsTable)
        .set(soldTicketValues)
        .from(eventsTable)
        .where(
          and(
            inArray(ticketsTable.id, request.ticketIds),
            eq(ticketsTable.eventId, request.eventId),
            eq(eventsTable.id, ticketsTable.eventId),
            eq(ticketsTable.status, 'AVAILABLE'),
            saleIsOpen,
          ),
        )
        .returning({
          ...changedTicketColumns,
          priceCents: ticketsTable.priceCents,
          limit: eventsTable.perCustomerLimit,
        });
      if (sold.length !== request.ticketIds.length) throw new Rollback({ kind: 'refused' });

      await ensureCustomer(tx, request.customerId);
      const limit = sold[0]?.limit ?? null;
      const [count] = await tx
        .insert(customerEventTicketsTable)
        .values({ customerId: request.customerId, eventId: request.eventId, tickets: sold.length })
        .onConflictDoUpdate({
          target: [customerEventTicketsTable.customerId, customerEventTicketsTable.eventId],
          set: { tickets: sql`${customerEventTicketsTable.tickets} + excluded.tickets` },
          ...(limit === null
            ? {}
            : { setWhere: sql`${customerEventTicketsTable.tickets} + excluded.tickets <= ${limit}` }),
        })
        .returning({ tickets: customerEventTicketsTable.tickets });
      if (limit !== null && (!count || count.tickets > limit)) {
        // No row back: the upsert's condition refused. A row over the limit: a first purchase too big alone.
        const held = count ? 0 : await heldTickets(tx, request);
        throw new Rollback({ kind: 'limit', limit, held });
      }

      const order = await insertOrder(tx, {
        customerId: request.customerId,
        eventId: request.eventId,
        lines: sold.map((ticket) => ({ ticketId: ticket.id, priceCents: ticket.priceCents })),
        idempotencyKey: request.idempotencyKey,
      });
      return {
        kind: 'sold',
        order,
        tickets: sold.map(({ priceCents: _p, limit: _l, ...ticket }) => ticket),
      } satisfies SaleResult;
    });
  } catch (error) {
    if (error instanceof Rollback) return error.result;
    if (request.idempotencyKey && isUniqueViolation(error, 'orders_customer_idempotency_uq')) {
      const order = await orderByIdempotencyKey(db, request.customerId, request.idempotencyKey);
      if (order) return { kind: 'duplicate', order };
    }
    throw error;
  }
}

/** Tickets the customer already holds for the event. */
async function heldTickets(db: Db | Tx, request: SaleRequest): Promise<number> {
  const [row] = await db
    .select({ tickets: customerEventTicketsTable.tickets })
    .from(customerEventTicketsTable)
    .where(
      and(
        eq(customerEventTicketsTable.customerId, request.customerId),
        eq(customerEventTicketsTable.eventId, request.eventId),
      ),
    );
  return row?.tickets ?? 0;
}

/** The order a customer made with an idempotency key, if any. */
export async function orderByIdempotencyKey(db: Db, customerId: string, key: string): Promise<OrderRow | undefined> {
  const [order] = await db
    .select()
    .from(ordersTable)
    .where(and(eq(ordersTable.customerId, customerId), eq(ordersTable.idempotencyKey, key)));
  return order;
}

/** True for a Postgres unique violation on `constraint`, from postgres.js or PGlite, wrapped or not. */
function isUniqueViolation(error: unknown, constraint: string): boolean {
  for (let e: unknown = error; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const { code, constraint_name, constraint: pgliteConstraint } = e as Record<string, unknown>;
    if (code === '23505' && (constraint_name === constraint || pgliteConstraint === constraint)) return true;
  }
  return false;
}
