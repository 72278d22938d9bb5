import { asc } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { ticketsTable } from '../db/schema.js';
import { requestedSeats } from '../sales/requested-seats.js';
import type { SaleRequest } from '../sales/sale-request.js';
import { duplicateSale, runSale, type SaleResult } from '../sales/sale-transaction.js';
import { type GuardRefusal, type Sale, settle } from '../sales/settle.js';

/**
 * Comparison strategy `pg-row-lock`: pessimistic locking in Postgres alone. `SELECT … FOR UPDATE`
 * (in id order, so overlapping groups cannot deadlock) queues every buyer of a seat behind its row
 * lock; a buyer who finds every seat AVAILABLE runs the product's sale (`runSale`, one statement
 * inside our transaction, so the same rules hold), the others wake to SOLD. Every attempt, winner or
 * not, costs a transaction and holds the row locks for its round trips.
 */
export async function sellWithRowLock(db: Db, request: SaleRequest): Promise<Sale> {
  const outcome = await db
    .transaction(async (tx): Promise<SaleResult | GuardRefusal> => {
      const rows = await tx
        .select({ id: ticketsTable.id, status: ticketsTable.status })
        .from(ticketsTable)
        .where(requestedSeats(request))
        .orderBy(asc(ticketsTable.id))
        .for('update');
      const statuses = new Map(rows.map((row) => [row.id, row.status]));
      const ready = rows.length === request.ticketIds.length && rows.every((row) => row.status === 'AVAILABLE');
      if (!ready) return { kind: 'guard', statuses };
      return runSale(tx as unknown as Db, request);
    })
    .catch((error: unknown) => duplicateSale(db, request, error));
  return settle(db, request, outcome);
}
