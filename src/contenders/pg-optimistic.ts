import { and, asc, eq, or, TransactionRollbackError } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { ticketsTable } from '../db/schema.js';
import { TicketsUnavailableError } from '../sales/errors.js';
import { requestedSeats } from '../sales/requested-seats.js';
import type { SaleRequest } from '../sales/sale-request.js';
import { duplicateSale, runSale, type SaleResult } from '../sales/sale-transaction.js';
import { type Sale, settle } from '../sales/settle.js';

/** Reads plus version-checked writes a buyer may make before being told the seats are contended. */
export const OPTIMISTIC_ATTEMPTS = 3;

/**
 * Comparison strategy `pg-optimistic`, as the seed tried it: read the seats' `version`s without a
 * lock, then claim them `WHERE version = <read>` (SELECT … FOR UPDATE in id order); a claim that gets
 * fewer rows than asked lost a race and reads again, up to {@link OPTIMISTIC_ATTEMPTS} times, with no
 * back-off. A buyer who loses every round gets LOCKED. Then the product's sale (`runSale`, one
 * statement in the same transaction) applies the same rules as every other strategy.
 */
export async function sellOptimistically(db: Db, request: SaleRequest): Promise<Sale> {
  const seats = requestedSeats(request);
  for (let attempt = 1; attempt <= OPTIMISTIC_ATTEMPTS; attempt++) {
    const seen = await db
      .select({ id: ticketsTable.id, status: ticketsTable.status, version: ticketsTable.version })
      .from(ticketsTable)
      .where(seats);
    const statuses = new Map(seen.map((row) => [row.id, row.status]));
    if (seen.length !== request.ticketIds.length || seen.some((row) => row.status !== 'AVAILABLE')) {
      return settle(db, request, { kind: 'guard', statuses });
    }
    const outcome = await db
      .transaction(async (tx): Promise<SaleResult | undefined> => {
        // The claim locks the rows still at the versions read, in id order (overlapping groups
        // cannot deadlock); READ COMMITTED re-checks each version once its lock is free.
        const claimed = await tx
          .select({ id: ticketsTable.id })
          .from(ticketsTable)
          .where(
            and(
              seats,
              or(...seen.map((row) => and(eq(ticketsTable.id, row.id), eq(ticketsTable.version, row.version)))),
            ),
          )
          .orderBy(asc(ticketsTable.id))
          .for('update');
        // Lost a race for some seat: roll back, which frees the rows we did claim, and read again.
        if (claimed.length !== request.ticketIds.length) tx.rollback();
        return runSale(tx as unknown as Db, request);
      })
      .catch((error: unknown) => {
        if (error instanceof TransactionRollbackError) return undefined;
        return duplicateSale(db, request, error);
      });
    if (outcome) return settle(db, request, outcome);
  }
  throw new TicketsUnavailableError(
    request.ticketIds.map((ticketId) => ({ ticketId, eventId: request.eventId, reason: 'LOCKED' })),
  );
}
