import type { SaleSettingsCache } from '../catalog/sale-settings.js';
import type { Db } from '../db/client.js';
import type { KeyAttempts } from '../infra/key-attempts.js';
import type { Lease, TicketLock } from '../infra/ticket-lock.js';
import {
  LockLostError,
  saleWindowError,
  TicketsUnavailableError,
  ticketNotFound,
  type UnavailableTicket,
} from './errors.js';
import type { GroupCommitter } from './group-commit.js';
import { fingerprintOf, type KeyStore, keyedRequest, oncePerKey } from './idempotency.js';
import { refuseOrderKey } from './key-tombstones.js';
import type { SaleRequest } from './sale-request.js';
import { commitSale, orderForKey } from './sale-transaction.js';
import { type Sale, type SellSeats, settle } from './settle.js';

/** Test seams on the purchase path, for fault drills (a paused holder, a slow network). */
export interface PurchaseHooks {
  /** Runs after the locks are taken and before the transaction starts. */
  afterLock?: (lease: Lease) => Promise<void>;
}

/** What the product's sale needs besides the database. */
export interface LockedSaleDeps extends LeaseDeps {
  /** What Redis remembers of each idempotency key's attempts. */
  keyAttempts: KeyAttempts;
  saleSettings: SaleSettingsCache;
  /** How long a retry with the same idempotency key waits for its in-flight twin (the lock TTL). */
  inFlightWaitMs: number;
  /** Commits winners in groups (group-commit.ts); undefined: each winner's statement alone. */
  groupCommit?: GroupCommitter | undefined;
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
    const { idempotencyKey: key } = request;
    const fingerprint = fingerprintOf(request.ticketIds);
    const keyed = keyedRequest('purchase', request, key, fingerprint, deps);
    const store: KeyStore<Sale> = {
      async earlier() {
        const order = await orderForKey(db, request, key);
        return order && { order, changed: [] };
      },
      refuse: (refusal) => refuseOrderKey(db, request, key, refusal),
    };
    return oncePerKey(deps.keyAttempts, keyed, store, () => sell(db, request));
  };
}

async function sellBehindLocks(db: Db, deps: LockedSaleDeps, asked: SaleRequest): Promise<Sale> {
  await assertOnSale(deps.saleSettings, asked);

  const { leases, request } = await lockSeats(deps, asked);
  let outcome: Awaited<ReturnType<typeof commitSale>>;
  try {
    if (leases[0]) await deps.hooks?.afterLock?.(leases[0]);
    outcome = await commitSale(db, request, deps.groupCommit?.run);
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

/**
 * The checks before any lock, from the cached settings: the event exists and its sale is open now.
 *
 * @throws NotFoundError (for the request's first seat), SaleNotOpenError or SaleClosedError.
 */
export async function assertOnSale(
  saleSettings: SaleSettingsCache,
  request: { eventId: string; ticketIds: readonly string[] },
): Promise<void> {
  const settings = await saleSettings.get(request.eventId);
  if (!settings) throw ticketNotFound(request.eventId, request.ticketIds[0] ?? '');
  const closed = saleWindowError(settings, new Date());
  if (closed) throw closed;
}

// The seat locks, shared with holds (holds.ts): take them all or none, then settle them.

/** What settling leases needs: the lock, and where to report a Redis error (the database has decided). */
export interface LeaseDeps {
  lock: TicketLock;
  onLockError: (error: unknown) => void;
  /** Told how long taking a request's locks took (one pipelined round trip), in seconds. */
  lockTaken?: ((seconds: number) => void) | undefined;
}

/**
 * Takes every seat's lock, all or nothing ({@link TicketLock.acquireAll}): in sorted order, one round
 * trip per Redis node. Nobody waits for a lock, so overlapping buyers cannot deadlock. When any seat is
 * refused, no lock is kept and the refusal names every seat that was unavailable; no database query
 * is made. Returns the leases and the request stamped with the marks epoch read before the locks
 * were taken, which its statement checks (sales/marks.ts).
 *
 * @throws TicketsUnavailableError
 */
export async function lockSeats(
  deps: LeaseDeps,
  request: SaleRequest,
): Promise<{ leases: Lease[]; request: SaleRequest }> {
  const marksEpoch = await deps.lock.leaseEpoch(request.eventId);
  const started = performance.now();
  const taken = await deps.lock.acquireAll(
    request.ticketIds.map((ticketId) => ({ eventId: request.eventId, ticketId })),
  );
  deps.lockTaken?.((performance.now() - started) / 1000);
  if (taken.acquired) return { leases: taken.leases, request: { ...request, marksEpoch } };
  const refused: UnavailableTicket[] = taken.refused.map(({ ticketId, reason, holder }) => ({
    ticketId,
    eventId: request.eventId,
    reason,
    holder,
  }));
  throw new TicketsUnavailableError(refused);
}

/** Frees every lease that still owns its lock. */
export function releaseAll(deps: LeaseDeps, leases: readonly Lease[]) {
  return Promise.all(leases.map((lease) => deps.lock.release(lease).catch(deps.onLockError)));
}

/** Turns every lease into the sold mark (naming `buyer` when known). */
export function markAllSold(deps: LeaseDeps, leases: readonly Lease[], buyer?: string) {
  return Promise.all(leases.map((lease) => deps.lock.markSold(lease, buyer).catch(deps.onLockError)));
}

/**
 * After the database refused: seats it says are sold get their sold mark back, naming the buyer it
 * read (it heals after a Redis flush or restart), and the other locks are freed. A fenced refusal
 * (LockLostError) is told to the lock.
 */
export function settleRefusedLeases(deps: LeaseDeps, leases: readonly Lease[], refusal: unknown) {
  if (refusal instanceof LockLostError && leases[0]) deps.lock.fenced?.(leases[0].eventId);
  const sold = new Map(
    refusal instanceof TicketsUnavailableError
      ? refusal.tickets.filter((t) => t.reason === 'SOLD').map((t) => [t.ticketId, t.holder] as const)
      : [],
  );
  return Promise.all(
    leases.map((lease) =>
      (sold.has(lease.ticketId) ? deps.lock.markSold(lease, sold.get(lease.ticketId)) : deps.lock.release(lease)).catch(
        deps.onLockError,
      ),
    ),
  );
}
