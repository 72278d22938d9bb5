import type { Db } from '../db/client.js';
import type { SaleRequest } from '../sales/sale-request.js';
import { commitSale } from '../sales/sale-transaction.js';
import { type Sale, settle } from '../sales/settle.js';

/**
 * Comparison strategy `pg-conditional`: the product's own sale statement (`commitSale`, whose
 * conditional `… WHERE status = 'AVAILABLE' FOR UPDATE` refuses a second sale) with no Redis in front
 * of it. Concurrent buyers queue on the rows inside Postgres, and every loser costs a statement that
 * waited for the row locks plus the reads that explain the refusal.
 */
export async function sellConditionally(db: Db, request: SaleRequest): Promise<Sale> {
  return settle(db, request, await commitSale(db, request));
}
