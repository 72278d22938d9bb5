import type { Db } from '../db/client.js';
import type { OrderRow, TicketStatus } from '../db/schema.js';
import { PurchaseLimitReachedError } from './errors.js';
import type { PurchaseDeps } from './purchase.js';
import { explainRefusal, seatRefusal } from './refusal.js';
import type { SaleRequest, SaleResult } from './sale-transaction.js';

/** What a strategy's own guard found before the sale: each requested seat's status (absent: no such seat). */
export type GuardRefusal = { kind: 'guard'; statuses: Map<string, TicketStatus> };

/**
 * Turns a strategy's outcome into the contract purchaseTickets keeps: the order (after telling
 * `onTicketChanged` about each seat), or the expected failure. Refusals by `commitSale` are
 * explained as the product explains them, after the fact.
 */
export async function settleSale(
  db: Db,
  deps: PurchaseDeps,
  request: SaleRequest,
  outcome: SaleResult | GuardRefusal,
): Promise<OrderRow> {
  switch (outcome.kind) {
    case 'sold':
      for (const ticket of outcome.tickets) deps.onTicketChanged?.(ticket);
      return outcome.order;
    case 'duplicate':
      return outcome.order;
    case 'limit':
      throw new PurchaseLimitReachedError(outcome.limit, outcome.held);
    case 'guard':
      throw seatRefusal(request, outcome.statuses);
    case 'refused':
      throw await explainRefusal(db, request, new Date());
  }
}
