import { and, eq, isNull } from 'drizzle-orm';
import type { SaleSettingsCache } from '../catalog/sale-settings.js';
import type { TicketChange } from '../catalog/ticket-change.js';
import type { Db } from '../db/client.js';
import { type HoldRow, holdsTable, type OrderRow, ordersTable } from '../db/schema.js';
import { NotFoundError } from '../errors.js';
import type { KeyAttempts } from '../infra/key-attempts.js';
import { type CheckoutRequest, type CheckoutWrite, commitCheckout } from './checkout-statement.js';
import { endHolds } from './end-holds.js';
import { HoldExpiredError, IdempotencyKeyReusedError, LockLostError, PurchaseLimitReachedError } from './errors.js';
import type { GroupCommitter } from './group-commit.js';
import { commitHold, expiredHoldsOf, holdForKey } from './hold-storage.js';
import { fingerprintOf, type KeyStore, keyedRequest, oncePerKey } from './idempotency.js';
import { type KeyOwner, refuseHoldKey } from './key-tombstones.js';
import { assertOnSale, type LeaseDeps, lockSeats, releaseAll, settleRefusedLeases } from './locked-sale.js';
import { explainRefusal } from './refusal.js';
import type { SaleRequest } from './sale-request.js';
import { heldTickets, isUniqueViolation, orderByIdempotencyKey } from './sale-transaction.js';

/** Where ended holds' seats are announced: their Redis keys are cleared and seat maps are told. */
export interface ReopenDeps extends LeaseDeps {
  publish: (eventId: string, changes: TicketChange[]) => void;
}

/**
 * After holds ended (expired or released), clears their seats' Redis keys, whatever they hold, and
 * publishes the seats, grouped by event. Clearing a key may free the lock of a request in flight;
 * Postgres still guards that request's write.
 */
export async function reopenSeats(
  deps: ReopenDeps,
  tickets: readonly TicketChange[],
  /** Seats whose keys the caller holds (its own locks): they are announced but their keys kept. */
  ownLocks: ReadonlySet<string> = NO_SEATS,
): Promise<void> {
  await Promise.all(
    tickets
      .filter((t) => !ownLocks.has(t.id))
      .map((t) => deps.lock.reopen({ eventId: t.eventId, ticketId: t.id }).catch(deps.onLockError)),
  );
  const byEvent = new Map<string, TicketChange[]>();
  for (const ticket of tickets) {
    const list = byEvent.get(ticket.eventId) ?? [];
    list.push(ticket);
    byEvent.set(ticket.eventId, list);
  }
  for (const [eventId, changes] of byEvent) deps.publish(eventId, changes);
}

const NO_SEATS: ReadonlySet<string> = new Set();

/** Expires these holds now if they are past their expiry, and announces their seats (see reopenSeats). */
async function expireIfDue(
  db: Db,
  deps: ReopenDeps,
  holdIds: readonly string[],
  ownLocks?: ReadonlySet<string>,
): Promise<number> {
  const ended = await endHolds(db, { due: true, ids: holdIds }, 'EXPIRED');
  await reopenSeats(deps, ended.tickets, ownLocks);
  return ended.holds.length;
}

/** What holding seats needs besides the database. */
export interface HoldDeps extends ReopenDeps {
  /** What Redis remembers of each idempotency key's attempts. */
  keyAttempts: KeyAttempts;
  saleSettings: SaleSettingsCache;
  /** How long a hold lasts when its event names no `holdMinutes`. */
  holdTtlMs: number;
  /** How long a retry with the same idempotency key waits for its in-flight twin. */
  inFlightWaitMs: number;
  /** Commits winners in groups (group-commit.ts); undefined: each winner's statement alone. */
  groupCommit?: GroupCommitter | undefined;
}

/** A hold and the seats whose status it changed (none for a retried key). */
export interface HoldChange {
  hold: HoldRow;
  changed: TicketChange[];
}

/**
 * Holds seats for the buyer, all or none, as a purchase buys them: the key's in-flight lease, the
 * sale window from the cache, one lock per seat (a seat locked, held or sold refuses the whole hold
 * with no database query), then one conditional statement ({@link commitHold}). The locks become hold
 * marks that last as long as the hold, so later buyers are refused as HELD by Redis alone. A seat
 * still kept by a hold past its expiry (the sweeper has not reached it yet) is freed and taken.
 *
 * @throws TicketsUnavailableError, NotFoundError, SaleNotOpenError, SaleClosedError, PurchaseLimitReachedError or
 *   IdempotencyKeyReusedError (the key made a hold of other seats).
 */
export function holdSeats(db: Db, deps: HoldDeps, request: SaleRequest): Promise<HoldChange> {
  const { idempotencyKey: key } = request;
  if (!key) return holdBehindLocks(db, deps, request);
  const fingerprint = fingerprintOf(request.ticketIds);
  const keyed = keyedRequest('hold', request, key, fingerprint, deps);
  const store = holdKeyStore(db, request, key, () => holdForKey(db, request, key));
  return oncePerKey(deps.keyAttempts, keyed, store, () => holdBehindLocks(db, deps, request));
}

/**
 * Where a hold key's answer lives: the hold `find` reads (the key's hold, checked against the
 * request), or the key's refusal tombstone among the holds.
 */
export function holdKeyStore(
  db: Db,
  owner: KeyOwner,
  key: string,
  find: () => Promise<HoldRow | undefined>,
): KeyStore<HoldChange> {
  return {
    async earlier() {
      const hold = await find();
      return hold && { hold, changed: [] };
    },
    refuse: (refusal) => refuseHoldKey(db, owner, key, refusal),
  };
}

async function holdBehindLocks(db: Db, deps: HoldDeps, asked: SaleRequest): Promise<HoldChange> {
  await assertOnSale(deps.saleSettings, asked);

  const { leases, request } = await lockSeats(deps, asked);
  try {
    let outcome = await commitHoldOrRepeat(db, deps, request);
    // Seats an expired hold still keeps are freed now, rather than at the sweeper's next pass.
    // Keeps this request's own locks: they become its hold marks below.
    const own = new Set(request.ticketIds);
    if (
      outcome.kind === 'refused' &&
      (await expireIfDue(db, deps, await expiredHoldsOf(db, request.ticketIds), own)) > 0
    ) {
      outcome = await commitHoldOrRepeat(db, deps, request);
    }
    switch (outcome.kind) {
      case 'held': {
        const ttlMs = Math.max(1, outcome.hold.expiresAt.getTime() - Date.now());
        await Promise.all(
          leases.map((lease) => deps.lock.markHeld(lease, request.customerId, ttlMs).catch(deps.onLockError)),
        );
        return { hold: outcome.hold, changed: outcome.tickets };
      }
      case 'repeat':
        await releaseAll(deps, leases);
        return { hold: outcome.hold, changed: [] };
      case 'limit':
        throw new PurchaseLimitReachedError(outcome.limit, await heldTickets(db, request));
      case 'refused':
        throw await explainRefusal(db, request, new Date());
      case 'fenced':
        throw new LockLostError(request.eventId);
    }
  } catch (error) {
    await settleRefusedLeases(deps, leases, error);
    throw error;
  }
}

type HoldOutcome = Awaited<ReturnType<typeof commitHold>> | { kind: 'repeat'; hold: HoldRow };

/** {@link commitHold}, answering a key's unique violation with the hold the key already made. */
async function commitHoldOrRepeat(db: Db, deps: HoldDeps, request: SaleRequest): Promise<HoldOutcome> {
  try {
    return await commitHold(db, request, deps.holdTtlMs, deps.groupCommit?.run);
  } catch (error) {
    if (request.idempotencyKey && isUniqueViolation(error, 'holds_customer_idempotency_uq')) {
      const hold = await holdForKey(db, request, request.idempotencyKey);
      if (hold) return { kind: 'repeat', hold };
    }
    throw error;
  }
}

/** What a checkout decided. */
type CheckoutOutcome =
  | { kind: 'sold'; order: OrderRow; changed: TicketChange[] }
  | { kind: 'repeat'; order: OrderRow }
  /** `due`: still ACTIVE but past its expiry, so it is to be expired now. */
  | { kind: 'expired'; error: HoldExpiredError; due: boolean };

/** A checkout's order and the seats it sold, or why there is none (its seats already announced). */
export type CheckoutResult = { order: OrderRow; changed: TicketChange[] } | { error: HoldExpiredError };

/**
 * Turns an ACTIVE, unexpired hold into an order in one statement ({@link commitCheckout}): the hold
 * row is locked (so two checkouts of one hold queue, and the second finds it CHECKED_OUT and returns
 * the same order), its seats go HELD → SOLD, the order and its lines are written. Past `expiresAt`
 * (by the database's clock) it sells nothing and the hold is expired at once, whether or not the
 * sweeper has run. The customer's count does not change: held seats were counted when held.
 *
 * @throws NotFoundError (no such hold, or not yours), or IdempotencyKeyReusedError (the key already
 *   made another order; this checkout bought nothing).
 */
export async function checkout(
  db: Db,
  deps: ReopenDeps & { groupCommit?: GroupCommitter | undefined },
  input: CheckoutRequest,
): Promise<CheckoutResult> {
  let outcome: CheckoutOutcome;
  try {
    outcome = await decideCheckout(db, input, await commitCheckout(db, input, deps.groupCommit?.run));
  } catch (error) {
    // The key already named another order (a purchase, or another hold's checkout: this hold's own
    // checkout would have been found above). The statement wrote nothing.
    const key = input.idempotencyKey;
    if (!key || !isUniqueViolation(error, 'orders_customer_idempotency_uq')) throw error;
    const order = await orderByIdempotencyKey(db, input.customerId, key);
    if (!order) throw error;
    throw new IdempotencyKeyReusedError(key, { kind: 'order', id: order.id });
  }
  if (outcome.kind === 'repeat') return { order: outcome.order, changed: [] };
  if (outcome.kind === 'expired') {
    // Past its expiry and still ACTIVE: expire it now, so its seats are back at once.
    if (outcome.due) await expireIfDue(db, deps, [input.holdId]);
    return { error: outcome.error };
  }
  const [first] = outcome.changed;
  if (first) {
    await deps.lock
      .heldToSold(
        first.eventId,
        outcome.changed.map((t) => t.id),
        input.customerId,
      )
      .catch(deps.onLockError);
  }
  return { order: outcome.order, changed: outcome.changed };
}

/** What the checkout statement's write means for the buyer; a hold already checked out gives its order. */
async function decideCheckout(db: Db, input: CheckoutRequest, write: CheckoutWrite): Promise<CheckoutOutcome> {
  if (write.kind === 'missing') throw new NotFoundError(input.holdId, 'Hold');
  if (write.kind === 'sold') return write;
  const { hold } = write;
  if (hold.status === 'CHECKED_OUT' && hold.orderId) {
    const [order] = await db.select().from(ordersTable).where(eq(ordersTable.id, hold.orderId));
    if (order) return { kind: 'repeat', order };
  }
  if (hold.status === 'RELEASED') {
    const message = 'This hold was released; its seats went back on sale and nothing was bought.';
    return {
      kind: 'expired',
      error: new HoldExpiredError(input.holdId, hold.endedAt ?? hold.expiresAt, message),
      due: false,
    };
  }
  return { kind: 'expired', error: new HoldExpiredError(input.holdId, hold.expiresAt), due: hold.status === 'ACTIVE' };
}

/**
 * Releases an ACTIVE hold at its buyer's request: the seats are back on sale at once, and the
 * buyer's count gives them back. Releasing a hold that is no longer ACTIVE changes nothing.
 *
 * @throws NotFoundError (no such hold, or not yours).
 */
export async function releaseHold(
  db: Db,
  deps: ReopenDeps,
  input: { holdId: string; customerId: string },
): Promise<HoldRow> {
  const ended = await endHolds(db, { due: false, ids: [input.holdId], customerId: input.customerId }, 'RELEASED');
  // Before anything else can fail: the seats are back on sale, so their hold marks must go now.
  await reopenSeats(deps, ended.tickets);
  const [hold] = await db
    .select()
    .from(holdsTable)
    .where(
      and(eq(holdsTable.id, input.holdId), eq(holdsTable.customerId, input.customerId), isNull(holdsTable.refusal)),
    );
  if (!hold) throw new NotFoundError(input.holdId, 'Hold');
  return hold;
}
