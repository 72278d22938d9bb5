import type { Db } from '../db/client.js';
import type { OrderRow } from '../db/schema.js';
import { settleSale } from './pg-sale.js';
import type { PurchaseDeps, PurchaseManyInput } from './purchase.js';
import { commitSale, saleRequest } from './sale-transaction.js';

/**
 * Comparison strategy `pg-conditional`: the product's own sale statement (`commitSale`, whose
 * conditional `… WHERE status = 'AVAILABLE' FOR UPDATE` refuses a second sale) with no Redis in front
 * of it. Concurrent buyers queue on the rows inside Postgres, and every loser costs a statement that
 * waited for the row locks plus the reads that explain the refusal.
 */
export async function purchaseConditionally(db: Db, deps: PurchaseDeps, input: PurchaseManyInput): Promise<OrderRow> {
  const request = saleRequest(input);
  return settleSale(db, deps, request, await commitSale(db, request));
}
