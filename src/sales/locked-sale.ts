import type { SaleSettingsCache } from '../catalog/sale-settings.js';
import type { Db } from '../db/client.js';
import type { Lease, TicketLock } from '../infra/ticket-lock.js';
import { assertOnSale } from './errors.js';
import { oncePerKey } from './idempotency.js';
import type { SaleRequest } from './sale-request.js';
import { commitSale, orderForKey } from './sale-transaction.js';
import { lockSeats, markAllSold, releaseAll, settleRefusedLeases } from './seat-leases.js';
import { type Sale, type SellSeats, settle } from './settle.js';

/** Test seams on the purchase path, for fault drills (a paused holder, a slow network). */
export interface PurchaseHooks {
  /** Runs after the locks are taken and before the transaction starts. */
  afterLock?: (lease: Lease) => Promise<void>;
}

/** What the product's sale needs besides the database. */
export interface LockedSaleDeps {
  lock: TicketLock;
  saleSettings: SaleSettingsCache;
  /** How long a retry with the same idempotency key waits for its in-flight twin (the lock TTL). */
  inFlightWaitMs: number;
  /** Told about a lock that could not be released or marked sold (the database has decided anyway). */
  onLockError: (error: unknown) => void;
  lockTaken?: ((seconds: number) => void) | undefined;
  hooks?: PurchaseHooks | undefined;
}

/**
 * The product's way to sell: in front of the database, in order, an idempotency key's in-flight
 * lease ({@link oncePerKey}), the sale window (from the cache), then one lock per seat taken in
 * sorted order in one pipelined batch. A seat that is locked or marked sold to someone else refuses
 * the whole purchase before any query, and every lock taken is released. The winner's one-statement
 * transaction ({@link commitSale}) re-checks everything in SQL; its locks then become sold marks.
 */
export function createLockedSale(deps: LockedSaleDeps): SellSeats {
  const sell = (db: Db, request: SaleRequest) => sellBehindLocks(db, deps, request);
  return (db, request) => {
    if (!request.idempotencyKey) return sell(db, request);
    const { customerId, idempotencyKey: key } = request;
    const keyed = { kind: 'purchase', customerId, key, waitMs: deps.inFlightWaitMs } as const;
    const earlier = async () => {
      const order = await orderForKey(db, request, key);
      return order && { order, changed: [] };
    };
    return oncePerKey(deps.lock, keyed, earlier, () => sell(db, request));
  };
}

async function sellBehindLocks(db: Db, deps: LockedSaleDeps, request: SaleRequest): Promise<Sale> {
  await assertOnSale(deps.saleSettings, request);

  const leases = await lockSeats(deps, request);
  let outcome: Awaited<ReturnType<typeof commitSale>>;
  try {
    if (leases[0]) await deps.hooks?.afterLock?.(leases[0]);
    outcome = await commitSale(db, request);
  } catch (error) {
    await releaseAll(deps, leases);
    throw error;
  }
  let sale: Sale;
  try {
    sale = await settle(db, request, outcome);
  } catch (error) {
    await settleRefusedLeases(deps, leases, error);
    throw error;
  }
  if (sale.changed.length > 0) await markAllSold(deps, leases, request.customerId);
  else await releaseAll(deps, leases);
  return sale;
}
