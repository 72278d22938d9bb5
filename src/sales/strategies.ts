import type { PurchaseStrategyName } from '../config.js';
import type { Db } from '../db/client.js';
import type { OrderRow } from '../db/schema.js';
import { purchaseConditionally } from './pg-conditional.js';
import { purchaseOptimistically } from './pg-optimistic.js';
import { purchaseWithRowLock } from './pg-row-lock.js';
import { type PurchaseDeps, type PurchaseManyInput, purchaseTickets } from './purchase.js';

/**
 * One way to sell seats, all or none. Every strategy has the same contract as
 * {@link purchaseTickets}: resolve with the order, throw TicketsUnavailableError / NotFoundError (or
 * a sale-rule error) for expected failures, and call `deps.onTicketChanged` after a commit. One seat
 * is the same call with one id (see `purchaseTicket`).
 */
export type PurchaseStrategy = (db: Db, deps: PurchaseDeps, input: PurchaseManyInput) => Promise<OrderRow>;

/** The strategies the load test compares side by side; the product is `redis-lock`. */
export const purchaseStrategies: Record<PurchaseStrategyName, PurchaseStrategy> = {
  'redis-lock': purchaseTickets,
  'pg-row-lock': purchaseWithRowLock,
  'pg-optimistic': purchaseOptimistically,
  'pg-conditional': purchaseConditionally,
};

/**
 * The strategy a config names, behind the customer's attempt budget (`deps.attempts`): one take per
 * purchase, before any strategy runs, so every strategy is limited the same way.
 *
 * @throws RateLimitedError when the budget is spent, else whatever the strategy throws.
 */
export function selectPurchaseStrategy(name: PurchaseStrategyName): PurchaseStrategy {
  const sell = purchaseStrategies[name];
  return async (db, deps, input) => {
    await deps.attempts?.take(input.customerId);
    return sell(db, deps, input);
  };
}
