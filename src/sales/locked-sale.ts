import type { SaleSettingsCache } from '../catalog/sale-settings.js';
import type { Db } from '../db/client.js';
import type { Lease, TicketLock } from '../infra/ticket-lock.js';
import { saleWindowError, TicketsUnavailableError, ticketNotFound, type UnavailableTicket } from './errors.js';
import { oncePerKey } from './idempotency.js';
import type { SaleRequest } from './sale-request.js';
import { commitSale } from './sale-transaction.js';
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
    const keyed = { customerId: request.customerId, key: request.idempotencyKey, waitMs: deps.inFlightWaitMs };
    return oncePerKey(db, deps.lock, keyed, () => sell(db, request));
  };
}

async function sellBehindLocks(db: Db, deps: LockedSaleDeps, request: SaleRequest): Promise<Sale> {
  const settings = await deps.saleSettings.get(request.eventId);
  if (!settings) throw ticketNotFound(request.eventId, request.ticketIds[0] ?? '');
  const closed = saleWindowError(settings, new Date());
  if (closed) throw closed;

  const { leases, refused } = await acquireAll(deps.lock, request);
  if (refused.length > 0) {
    await releaseAll(deps, leases);
    throw new TicketsUnavailableError(refused);
  }

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
    // Seats the database says are sold get their sold mark back (it heals after a Redis flush); the
    // buyer is not read here, so the healed mark names none (see oncePerKey).
    const sold = soldSeats(error);
    await Promise.all([
      markAllSold(
        deps,
        leases.filter((lease) => sold.has(lease.ticketId)),
      ),
      releaseAll(
        deps,
        leases.filter((lease) => !sold.has(lease.ticketId)),
      ),
    ]);
    throw error;
  }
  if (sale.changed.length > 0) await markAllSold(deps, leases, request.customerId);
  else await releaseAll(deps, leases);
  return sale;
}

/** The seats a refusal says are SOLD. */
function soldSeats(error: unknown): Set<string> {
  if (!(error instanceof TicketsUnavailableError)) return new Set();
  return new Set(error.tickets.filter((t) => t.reason === 'SOLD').map((t) => t.ticketId));
}

// Settling the leases: a Redis error is reported and swallowed, since the database has decided.
function releaseAll(deps: LockedSaleDeps, leases: Lease[]) {
  return Promise.all(leases.map((lease) => deps.lock.release(lease).catch(deps.onLockError)));
}

function markAllSold(deps: LockedSaleDeps, leases: Lease[], buyer?: string) {
  return Promise.all(leases.map((lease) => deps.lock.markSold(lease, buyer).catch(deps.onLockError)));
}

/**
 * Takes every seat's lock in sorted order, in one pipelined batch. Nobody waits for a lock, so
 * overlapping buyers cannot deadlock; a refused buyer learns every seat that was unavailable.
 */
async function acquireAll(lock: TicketLock, request: SaleRequest) {
  const attempts = await Promise.all(request.ticketIds.map((ticketId) => lock.acquire(ticketId)));
  const leases: Lease[] = [];
  const refused: UnavailableTicket[] = [];
  attempts.forEach((attempt, i) => {
    if (attempt.acquired) leases.push(attempt.lease);
    else {
      const ticketId = request.ticketIds[i] as string;
      refused.push({ ticketId, eventId: request.eventId, reason: attempt.reason, soldTo: attempt.soldTo });
    }
  });
  return { leases, refused };
}
