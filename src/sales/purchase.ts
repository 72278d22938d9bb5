import { type SaleSettingsCache, saleStateAt } from '../catalog/sale-settings.js';
import type { Db } from '../db/client.js';
import type { OrderRow } from '../db/schema.js';
import type { Lease, TicketLock } from '../locks/ticket-lock.js';
import {
  asSingleSeatError,
  PurchaseLimitReachedError,
  SaleClosedError,
  SaleNotOpenError,
  TicketsUnavailableError,
  ticketNotFound,
  type UnavailableTicket,
} from './errors.js';
import { oncePerKey } from './idempotency.js';
import { explainRefusal } from './refusal.js';
import { commitSale, type SaleRequest, saleRequest } from './sale-transaction.js';
import type { ChangedTicket } from './storage.js';

/** Test seams on the purchase path, for fault drills (a paused holder, a slow network). */
export interface PurchaseHooks {
  /** Runs after the locks are taken and before the transaction starts. */
  afterLock?: (lease: Lease) => Promise<void>;
}

/** Per-customer attempt budget; throws RateLimitedError when it is spent. */
export interface AttemptLimiter {
  take(customerId: string): Promise<void>;
}

/** What the purchase needs besides the database. */
export interface PurchaseDeps {
  lock: TicketLock;
  saleSettings: SaleSettingsCache;
  /** The per-customer attempt budget, taken once per purchase by `selectPurchaseStrategy`. */
  attempts?: AttemptLimiter | undefined;
  /** How long a retry with the same idempotency key waits for its in-flight twin (the lock TTL). */
  inFlightWaitMs: number;
  /** Told about each committed status change, after the commit. Must not throw. */
  onTicketChanged?: (ticket: ChangedTicket) => void;
  onLockError?: (error: unknown) => void;
  hooks?: PurchaseHooks | undefined;
}

/** One seat. `eventId` comes from the ticket's global id, so no lookup is needed to know it. */
export interface PurchaseInput {
  eventId: string;
  ticketId: string;
  customerId: string;
  idempotencyKey?: string | undefined;
}

/** Several seats of one event, all or none. */
export interface PurchaseManyInput {
  eventId: string;
  ticketIds: string[];
  customerId: string;
  idempotencyKey?: string | undefined;
}

/**
 * Buys every seat or none. In front of the database, in order (after the customer's attempt budget,
 * which `selectPurchaseStrategy` in strategies.ts puts in front of every strategy): an idempotency
 * key's in-flight lease ({@link oncePerKey}), the sale window (from the cache), then one lock per seat
 * taken in sorted order. A seat that is locked or marked sold to someone else refuses the whole
 * purchase before any query, keyed or not, and every lock taken is released. The winner's transaction
 * ({@link commitSale}) re-checks everything in SQL.
 *
 * @throws TicketsUnavailableError, NotFoundError, SaleNotOpenError, SaleClosedError,
 *   or PurchaseLimitReachedError for expected failures.
 */
export async function purchaseTickets(db: Db, deps: PurchaseDeps, input: PurchaseManyInput): Promise<OrderRow> {
  const request = saleRequest(input);
  if (!input.idempotencyKey) return buySeats(db, deps, request);
  const keyed = { customerId: input.customerId, key: input.idempotencyKey, waitMs: deps.inFlightWaitMs };
  return oncePerKey(db, deps.lock, keyed, () => buySeats(db, deps, request));
}

/** The sale window (from the cache), the seat locks, the transaction, and settling the locks. */
async function buySeats(db: Db, deps: PurchaseDeps, request: SaleRequest): Promise<OrderRow> {
  const settings = await deps.saleSettings.get(request.eventId);
  if (!settings) throw ticketNotFound(request.eventId, request.ticketIds[0] ?? '');
  const state = saleStateAt(settings, new Date());
  if (!state.open) throw 'opensAt' in state ? new SaleNotOpenError(state.opensAt) : new SaleClosedError(state.closedAt);

  const { leases, refused } = await acquireAll(deps.lock, request);
  if (refused.length > 0) {
    await releaseAll(deps, leases);
    throw new TicketsUnavailableError(refused);
  }

  let result: Awaited<ReturnType<typeof commitSale>>;
  try {
    if (leases[0]) await deps.hooks?.afterLock?.(leases[0]);
    result = await commitSale(db, request);
  } catch (error) {
    await releaseAll(deps, leases);
    throw error;
  }
  switch (result.kind) {
    case 'sold':
      await markAllSold(deps, leases, request.customerId);
      for (const ticket of result.tickets) deps.onTicketChanged?.(ticket);
      return result.order;
    case 'duplicate':
      await releaseAll(deps, leases);
      return result.order;
    case 'limit':
      await releaseAll(deps, leases);
      throw new PurchaseLimitReachedError(result.limit, result.held);
    case 'refused': {
      const error = await explainRefusal(db, request, new Date());
      // Seats the database says are sold get their sold mark back (it heals after a Redis flush).
      const sold = new Set(
        error instanceof TicketsUnavailableError
          ? error.tickets.filter((t) => t.reason === 'SOLD').map((t) => t.ticketId)
          : [],
      );
      // The buyer is not read here, so the healed mark names none (see oncePerKey).
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
  }
}

// Settling the leases: a Redis error is reported and swallowed, since the database has decided.
// Module functions rather than closures per purchase: tsx names every closure it creates
// (`__name`), which showed in hot-seat profiles.
function releaseAll(deps: PurchaseDeps, leases: Lease[]) {
  return Promise.all(leases.map((lease) => deps.lock.release(lease).catch((e: unknown) => deps.onLockError?.(e))));
}

function markAllSold(deps: PurchaseDeps, leases: Lease[], buyer?: string) {
  return Promise.all(
    leases.map((lease) => deps.lock.markSold(lease, buyer).catch((e: unknown) => deps.onLockError?.(e))),
  );
}

/**
 * One seat: the same code as {@link purchaseTickets} (or the comparison strategy `buy`), with the
 * single-seat failure type.
 */
export async function purchaseTicket(
  db: Db,
  deps: PurchaseDeps,
  input: PurchaseInput,
  buy: (db: Db, deps: PurchaseDeps, input: PurchaseManyInput) => Promise<OrderRow> = purchaseTickets,
): Promise<OrderRow> {
  const { ticketId, ...rest } = input;
  try {
    return await buy(db, deps, { ...rest, ticketIds: [ticketId] });
  } catch (error) {
    throw asSingleSeatError(error);
  }
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
