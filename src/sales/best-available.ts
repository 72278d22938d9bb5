import { setTimeout as sleep } from 'node:timers/promises';
import { and, count, eq, inArray, lte, type SQL, sql } from 'drizzle-orm';
import { indexTicketsOf } from '../catalog/best-seats.js';
import type { Db } from '../db/client.js';
import { type HoldRow, holdsTable, ticketsTable } from '../db/schema.js';
import { type InputProblem, InvalidInputError, NotFoundError } from '../errors.js';
import type { PickRequest, PickResult, SeatIndex } from '../infra/seat-index.js';
import type { Lease } from '../infra/ticket-lock.js';
import {
  IdempotencyKeyReusedError,
  LockLostError,
  NotEnoughSeatsError,
  PurchaseLimitReachedError,
  saleWindowError,
  TicketsUnavailableError,
} from './errors.js';
import { commitHold } from './hold-storage.js';
import { type HoldChange, type HoldDeps, holdKeyStore } from './holds.js';
import { fingerprintOf, KeyRefusal, keyedRequest, oncePerKey } from './idempotency.js';
import { releaseAll } from './locked-sale.js';
import { explainRefusal } from './refusal.js';
import { refusalOf } from './refusal-record.js';
import { PURCHASE_LIMITS, type SaleRequest } from './sale-request.js';
import { heldTickets, isUniqueViolation } from './sale-transaction.js';

/** What a buyer asks for: the best N seats of an event (catalog/best-seats.ts says which are best). */
export interface BestAvailableInput {
  eventId: string;
  customerId: string;
  quantity: number;
  sections?: readonly string[] | null | undefined;
  maxPriceCents?: number | null | undefined;
  /** Adjacent seats in one row; true unless said otherwise. */
  together?: boolean | null | undefined;
  idempotencyKey?: string | null | undefined;
}

/** What best-available needs besides the database: what holds need, and the free-seat index. */
export interface BestAvailableDeps extends HoldDeps {
  seatIndex: SeatIndex;
}

/** A pick refused by Postgres is repaired and tried again, this many times in all. */
const PICK_ATTEMPTS = 4;
/** How long a pick waits for another instance to rebuild a lost index. */
const REBUILD_WAIT_MS = 10_000;
/** At most one check of the index against Postgres per event in this long (cluster-wide). */
const CHECK_INTERVAL_MS = 1000;

/** The request after the input rules. */
interface BestRequest extends PickRequest {
  customerId: string;
  idempotencyKey?: string | undefined;
}

/**
 * Applies the input rules: 1 to 10 seats, section names and a price that make sense, a key of 1 to
 * 200 characters.
 *
 * @throws InvalidInputError listing every problem.
 */
export function bestRequest(input: BestAvailableInput): BestRequest {
  const problems: InputProblem[] = [];
  const { maxSeats, maxIdempotencyKeyLength } = PURCHASE_LIMITS;
  if (!Number.isInteger(input.quantity) || input.quantity < 1 || input.quantity > maxSeats)
    problems.push({ path: 'quantity', message: `must be a whole number from 1 to ${maxSeats}` });
  const sections = input.sections ? [...new Set(input.sections.map((name) => name.trim()))] : undefined;
  if (sections && (sections.length === 0 || sections.length > 50 || sections.some((name) => name === '')))
    problems.push({ path: 'sections', message: 'must name 1 to 50 sections, none empty (omit it for any section)' });
  const max = input.maxPriceCents ?? undefined;
  if (max !== undefined && (!Number.isInteger(max) || max < 0))
    problems.push({ path: 'maxPriceCents', message: 'must be a whole number of at least 0' });
  const key = input.idempotencyKey ?? undefined;
  if (key !== undefined && (key.length < 1 || key.length > maxIdempotencyKeyLength))
    problems.push({ path: 'idempotencyKey', message: `must be 1 to ${maxIdempotencyKeyLength} characters` });
  if (problems.length > 0) throw new InvalidInputError(problems);
  return {
    eventId: input.eventId,
    customerId: input.customerId,
    quantity: input.quantity,
    together: input.together ?? true,
    sections,
    maxPriceCents: max,
    idempotencyKey: key,
  };
}

/**
 * Holds the best N free seats for the buyer: the key's in-flight lease, the sale window (cached),
 * then the free-seat index picks and locks N seats in one step, and the existing hold statement
 * ({@link commitHold}) confirms them in Postgres. A pick Postgres refuses (the index was behind) is
 * repaired (sold seats get their sold mark, held ones keep their lock until it expires, free ones
 * go back) and tried again; nothing is ever held twice, since Postgres decides.
 *
 * @throws NotEnoughSeatsError, NotFoundError (no such event), SaleNotOpenError, SaleClosedError,
 *   PurchaseLimitReachedError or IdempotencyKeyReusedError (the key made another hold).
 */
export function holdBestAvailable(db: Db, deps: BestAvailableDeps, request: BestRequest): Promise<HoldChange> {
  const { idempotencyKey: key } = request;
  if (!key) return holdBest(db, deps, request);
  const fingerprint = fingerprintOf([request.eventId, String(request.quantity)]);
  const keyed = keyedRequest('hold', request, key, fingerprint, deps);
  const store = holdKeyStore(db, request, key, () => holdOfKey(db, request, key));
  return oncePerKey(deps.keyAttempts, keyed, store, () => holdBest(db, deps, request));
}

async function holdBest(db: Db, deps: BestAvailableDeps, request: BestRequest): Promise<HoldChange> {
  const settings = await deps.saleSettings.get(request.eventId);
  if (!settings) throw new NotFoundError(request.eventId, 'Event');
  const closed = saleWindowError(settings, new Date());
  if (closed) throw closed;

  for (let attempt = 0; attempt < PICK_ATTEMPTS; attempt++) {
    // Read before the pick takes its locks (sales/marks.ts).
    const marksEpoch = await deps.lock.leaseEpoch(request.eventId);
    const pick = await pickSeats(db, deps, request);
    if (pick.kind === 'short') throw new NotEnoughSeatsError(request.quantity, pick.available, request.together);
    const sale: SaleRequest = {
      eventId: request.eventId,
      customerId: request.customerId,
      ticketIds: pick.leases.map((lease) => lease.ticketId).sort(),
      idempotencyKey: request.idempotencyKey,
      marksEpoch,
    };
    const outcome = await commitOrRepeat(db, deps, sale, pick.leases);
    if (outcome) return outcome;
  }
  // Every pick met seats the index thought free: it is far behind Postgres. Ask again shortly.
  throw new NotEnoughSeatsError(request.quantity, await availableInPostgres(db, request), request.together);
}

/** Confirms a pick in Postgres; undefined when Postgres refused its seats (repaired: pick again). */
async function commitOrRepeat(
  db: Db,
  deps: BestAvailableDeps,
  sale: SaleRequest,
  leases: Lease[],
): Promise<HoldChange | undefined> {
  let outcome: Awaited<ReturnType<typeof commitHold>>;
  try {
    outcome = await commitHold(db, sale, deps.holdTtlMs, deps.groupCommit?.run);
  } catch (error) {
    await releaseAll(deps, leases);
    const key = sale.idempotencyKey;
    if (key && isUniqueViolation(error, 'holds_customer_idempotency_uq')) {
      const hold = await holdOfKey(
        db,
        { eventId: sale.eventId, customerId: sale.customerId, quantity: leases.length },
        key,
      );
      if (hold) return { hold, changed: [] };
    }
    throw error;
  }
  switch (outcome.kind) {
    case 'held': {
      const ttlMs = Math.max(1, outcome.hold.expiresAt.getTime() - Date.now());
      await Promise.all(
        leases.map((lease) => deps.lock.markHeld(lease, sale.customerId, ttlMs).catch(deps.onLockError)),
      );
      return { hold: outcome.hold, changed: outcome.tickets };
    }
    case 'limit':
      await releaseAll(deps, leases);
      throw new PurchaseLimitReachedError(outcome.limit, await heldTickets(db, sale));
    case 'fenced':
      await releaseAll(deps, leases);
      deps.lock.fenced?.(sale.eventId);
      throw new LockLostError(sale.eventId);
    case 'refused': {
      const refusal = await explainRefusal(db, sale, new Date());
      await repair(deps, leases, refusal);
      if (!(refusal instanceof TicketsUnavailableError)) throw refusal;
      return undefined;
    }
  }
}

/**
 * After Postgres refused a pick: a seat it says is SOLD gets its sold mark (and stays taken in the
 * index); a HELD one keeps this pick's lock until the lock's TTL (the index keeps it taken until its
 * hold ends, when reopening frees it); the others are released (free again in the index).
 */
async function repair(deps: BestAvailableDeps, leases: Lease[], refusal: Error): Promise<void> {
  const reasons = new Map(
    refusal instanceof TicketsUnavailableError ? refusal.tickets.map((t) => [t.ticketId, t.reason]) : [],
  );
  await Promise.all(
    leases.map((lease) => {
      const reason = reasons.get(lease.ticketId);
      if (reason === 'SOLD') return deps.lock.markSold(lease).catch(deps.onLockError);
      if (reason === 'HELD') return undefined;
      return deps.lock.release(lease).catch(deps.onLockError);
    }),
  );
}

/**
 * Picks through the index. A lost index is rebuilt from Postgres (by one instance; the others wait
 * for it). When the index says too few seats are left, Postgres is asked (at most once a second per
 * event): if it has more free seats than the index counts (a seat freed while the index was being
 * rebuilt, or a lock whose holder crashed), the index is rebuilt and the pick tried again.
 */
async function pickSeats(
  db: Db,
  deps: BestAvailableDeps,
  request: BestRequest,
): Promise<Exclude<PickResult, { kind: 'lost' }>> {
  const deadline = Date.now() + REBUILD_WAIT_MS;
  let checked = false;
  for (;;) {
    const pick = await deps.seatIndex.pick(request);
    if (pick.kind === 'picked') return pick;
    if (pick.kind === 'short') {
      if (checked || !(await deps.seatIndex.mayCheck(request.eventId, CHECK_INTERVAL_MS))) return pick;
      checked = true;
      const inPostgres = await availableInPostgres(db, request);
      if (inPostgres <= pick.available || inPostgres < request.quantity) return pick;
      // Postgres has seats the index lost track of: rebuild and pick again.
      await deps.seatIndex.rebuild(request.eventId, () => indexTicketsOf(db, request.eventId));
      continue;
    }
    if (await deps.seatIndex.rebuild(request.eventId, () => indexTicketsOf(db, request.eventId))) continue;
    if (Date.now() > deadline) throw new Error(`best available: the seat index of ${request.eventId} is not rebuilt`);
    await sleep(20);
  }
}

/** How many AVAILABLE seats match the request in Postgres (the index's check). */
async function availableInPostgres(db: Db, request: BestRequest): Promise<number> {
  const conditions: SQL[] = [eq(ticketsTable.eventId, request.eventId), eq(ticketsTable.status, 'AVAILABLE')];
  if (request.sections) conditions.push(inArray(ticketsTable.section, [...request.sections]));
  if (request.maxPriceCents !== undefined) conditions.push(lte(ticketsTable.priceCents, request.maxPriceCents));
  const [row] = await db
    .select({ n: count() })
    .from(ticketsTable)
    .where(and(...conditions));
  return row?.n ?? 0;
}

/**
 * The hold a best-available key already made. A retry (same event, same number of seats) gets it
 * back; any other request under the key is IdempotencyKeyReused. A key refused before (its
 * tombstone) is KeyRefusal.
 */
async function holdOfKey(
  db: Db,
  request: { eventId: string; customerId: string; quantity: number },
  key: string,
): Promise<HoldRow | undefined> {
  // hold_tickets keeps a hold's seats whatever became of it.
  const seats = sql<number>`(select count(*)::int from hold_tickets ht where ht.hold_id = ${holdsTable.id})`;
  const [row] = await db
    .select({ hold: holdsTable, seats })
    .from(holdsTable)
    .where(and(eq(holdsTable.customerId, request.customerId), eq(holdsTable.idempotencyKey, key)));
  if (!row) return undefined;
  if (row.hold.refusal != null) throw new KeyRefusal(refusalOf(row.hold.refusal));
  if (row.hold.eventId !== request.eventId || Number(row.seats) !== request.quantity)
    throw new IdempotencyKeyReusedError(key, { kind: 'hold', id: row.hold.id });
  return row.hold;
}
