import type { PurchaseStrategyName } from '../config.js';
import type { SellSeats } from '../sales/settle.js';
import { sellConditionally } from './pg-conditional.js';
import { sellOptimistically } from './pg-optimistic.js';
import { sellWithRowLock } from './pg-row-lock.js';

/**
 * The ways to sell that the load test compares with the product's Redis lock. Each keeps the
 * product's contract ({@link SellSeats}) and runs behind the same purchase service; nothing on the
 * product path imports this folder (only `app.ts` wires one in when `PURCHASE_STRATEGY` names it).
 */
export const contenders = {
  'pg-row-lock': sellWithRowLock,
  'pg-optimistic': sellOptimistically,
  'pg-conditional': sellConditionally,
} as const satisfies Record<Exclude<PurchaseStrategyName, 'redis-lock'>, SellSeats>;
