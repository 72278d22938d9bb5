import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import type { OrderRow } from '../db/schema.js';
import { ticketsTable } from '../db/schema.js';
import { TicketUnavailableError } from './errors.js';
import { oneSeatRequest, settleSale } from './pg-sale.js';
import type { PurchaseDeps, PurchaseInput } from './purchase.js';
import { commitSale, type SaleResult } from './sale-transaction.js';

/** Reads plus version-checked writes a buyer may make before being told the seat is contended. */
export const OPTIMISTIC_ATTEMPTS = 3;

/**
 * Comparison strategy `pg-optimistic`, as the seed tried it: read the ticket's `version`, then write
 * `WHERE version = <read>`; a write that changes no row lost a race and reads again, up to
 * {@link OPTIMISTIC_ATTEMPTS} times, with no back-off. A buyer who loses every round gets LOCKED.
 * The version-checked write claims the row, then the product's sale (`commitSale`, one statement in
 * the same transaction) applies the same rules as every other strategy.
 */
export async function purchaseOptimistically(db: Db, deps: PurchaseDeps, input: PurchaseInput): Promise<OrderRow> {
  await deps.attempts?.take(input.customerId);
  const seat = and(eq(ticketsTable.id, input.ticketId), eq(ticketsTable.eventId, input.eventId));
  for (let attempt = 1; attempt <= OPTIMISTIC_ATTEMPTS; attempt++) {
    const [seen] = await db
      .select({ status: ticketsTable.status, version: ticketsTable.version })
      .from(ticketsTable)
      .where(seat);
    if (seen?.status !== 'AVAILABLE') {
      return settleSale(db, deps, input, { kind: 'guard', status: seen?.status ?? null });
    }
    const outcome = await db.transaction(async (tx): Promise<SaleResult | undefined> => {
      const claimed = await tx
        .update(ticketsTable)
        .set({ version: sql`${ticketsTable.version}` })
        .where(and(seat, eq(ticketsTable.version, seen.version)))
        .returning({ id: ticketsTable.id });
      return claimed.length === 0 ? undefined : commitSale(tx as unknown as Db, oneSeatRequest(input));
    });
    if (outcome) return settleSale(db, deps, input, outcome);
  }
  throw new TicketUnavailableError(input.ticketId, 'LOCKED', input.eventId);
}
