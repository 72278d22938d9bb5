import type { PurchaseStrategyName } from '../config.js';
import type { Db } from '../db/client.js';
import type { OrderRow } from '../db/schema.js';
import { purchaseConditionally } from './pg-conditional.js';
import { purchaseOptimistically } from './pg-optimistic.js';
import { purchaseWithRowLock } from './pg-row-lock.js';
import { type PurchaseDeps, type PurchaseInput, purchaseTicket } from './purchase.js';

/**
 * One way to sell one seat. Every strategy has the same contract as {@link purchaseTicket}: resolve
 * with the order, throw TicketUnavailableError / NotFoundError for expected failures, and call
 * `deps.onTicketChanged` after a commit.
 */
export type PurchaseStrategy = (db: Db, deps: PurchaseDeps, input: PurchaseInput) => Promise<OrderRow>;

/** The strategies the load test compares side by side; the product is `redis-lock`. */
export const purchaseStrategies: Record<PurchaseStrategyName, PurchaseStrategy> = {
  'redis-lock': purchaseTicket,
  'pg-row-lock': purchaseWithRowLock,
  'pg-optimistic': purchaseOptimistically,
  'pg-conditional': purchaseConditionally,
};

/** The strategy a config names. */
export function selectPurchaseStrategy(name: PurchaseStrategyName): PurchaseStrategy {
  return purchaseStrategies[name];
}
