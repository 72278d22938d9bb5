import type { Db } from '../db/client.js';
import type { OrderRow } from '../db/schema.js';
import { oneSeatRequest, settleSale } from './pg-sale.js';
import type { PurchaseDeps, PurchaseInput } from './purchase.js';
import { commitSale } from './sale-transaction.js';

/**
 * Comparison strategy `pg-conditional`: the product's own sale statement (`commitSale`, whose
 * conditional `… WHERE status = 'AVAILABLE' FOR UPDATE` refuses a second sale) with no Redis in front
 * of it. Concurrent buyers queue on the row inside Postgres, and every loser costs a statement that
 * waited for the row lock plus the reads that explain the refusal.
 */
export async function purchaseConditionally(db: Db, deps: PurchaseDeps, input: PurchaseInput): Promise<OrderRow> {
  await deps.attempts?.take(input.customerId);
  return settleSale(db, deps, input, await commitSale(db, oneSeatRequest(input)));
}
