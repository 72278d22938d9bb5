import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import type { OrderRow } from '../db/schema.js';
import { ticketsTable } from '../db/schema.js';
import { type GuardRefusal, oneSeatRequest, settleSale } from './pg-sale.js';
import type { PurchaseDeps, PurchaseInput } from './purchase.js';
import { commitSale, type SaleResult } from './sale-transaction.js';

/**
 * Comparison strategy `pg-row-lock`: pessimistic locking in Postgres alone. `SELECT … FOR UPDATE`
 * queues every buyer of a seat behind the row lock; the one that finds it AVAILABLE runs the
 * product's sale (`commitSale`, one statement inside our transaction, so the same rules hold), the
 * others wake to SOLD. Every attempt, winner or not, costs a transaction and holds the row lock for
 * its round trips.
 */
export async function purchaseWithRowLock(db: Db, deps: PurchaseDeps, input: PurchaseInput): Promise<OrderRow> {
  await deps.attempts?.take(input.customerId);
  const outcome = await db.transaction(async (tx): Promise<SaleResult | GuardRefusal> => {
    const [current] = await tx
      .select({ status: ticketsTable.status })
      .from(ticketsTable)
      .where(and(eq(ticketsTable.id, input.ticketId), eq(ticketsTable.eventId, input.eventId)))
      .for('update');
    if (current?.status !== 'AVAILABLE') return { kind: 'guard', status: current?.status ?? null };
    return commitSale(tx as unknown as Db, oneSeatRequest(input));
  });
  return settleSale(db, deps, input, outcome);
}
