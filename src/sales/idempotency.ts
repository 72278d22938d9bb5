import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExpectedError } from '../errors.js';
import type { KeyAttempt, KeyAttemptEnd, KeyAttempts } from '../infra/key-attempts.js';
import type { TicketLock } from '../infra/ticket-lock.js';
import { IdempotencyKeyReusedError, type KeyedResult, TicketsUnavailableError } from './errors.js';
import { type RefusalRecord, refusalOf, refusalRecord } from './refusal-record.js';

/**
 * True when `error` says another buyer has one of the seats now, so that the refusal cannot hide
 * this customer's own earlier result for the key, and a first attempt returns it as it is, with no
 * database query, like any other loser's: a seat held or sold to someone else by its mark, or a seat
 * locked while the event's marks have been kept for the whole idempotency window. Before that, a
 * lock may be a doomed buyer's on a seat this customer's earlier attempt bought, whose sold mark
 * Redis lost together with the key's record (a restart, a flush); the fault drill met that.
 */
async function lostToAnotherBuyer(error: unknown, request: KeyedRequest, windowMs: number): Promise<boolean> {
  if (!(error instanceof TicketsUnavailableError)) return false;
  const { tickets } = error;
  if (tickets.some((t) => t.holder !== undefined && t.holder !== request.customerId)) return true;
  if (!tickets.some((t) => t.reason === 'LOCKED')) return false;
  return (await request.marksKeptMs().catch(() => 0)) >= windowMs;
}

/** A keyed request: `kind` keeps purchase and hold keys apart. */
export interface KeyedRequest {
  kind: 'purchase' | 'hold';
  customerId: string;
  key: string;
  /** What the request asks for ({@link fingerprintOf}): tells a retry from another request under the key. */
  fingerprint: string;
  /** How long a retry waits for its in-flight twin (the lock TTL). */
  waitMs: number;
  /** For how long the request's event has kept every seat mark ({@link TicketLock.marks}). */
  marksKeptMs: () => Promise<number>;
}

/** The keyed request of a sale or hold of `request.eventId`'s seats under `key`. */
export function keyedRequest(
  kind: KeyedRequest['kind'],
  request: { customerId: string; eventId: string },
  key: string,
  fingerprint: string,
  deps: { lock: Pick<TicketLock, 'marks'>; inFlightWaitMs: number },
): KeyedRequest {
  const { customerId, eventId } = request;
  const marksKeptMs = async () => (await deps.lock.marks(eventId)).keptMs;
  return { kind, customerId, key, fingerprint, waitMs: deps.inFlightWaitMs, marksKeptMs };
}

/** Where a key's result lives in Postgres (its order, or its hold), with its refusal tombstone in the same place. */
export interface KeyStore<T> {
  /**
   * The key's result, if it made one.
   *
   * @throws KeyRefusal when the key's row is its refusal tombstone, or IdempotencyKeyReusedError when
   *   its result was made for another request.
   */
  earlier(): Promise<T | undefined>;
  /**
   * Writes the key's refusal tombstone (db/schema.ts), unless the key already has a row; a twin's
   * row not yet committed is waited for. Writes nothing when the request's event is gone.
   */
  refuse(refusal: RefusalRecord): Promise<void>;
}

/**
 * Met where a key's row is its refusal tombstone: the attempt answers `refusal` and makes nothing.
 * Not an ExpectedError, so the code on its way out (the seat locks' settlement) takes it for a
 * failure and frees what it took; {@link oncePerKey} then answers the refusal itself.
 */
export class KeyRefusal extends Error {
  constructor(readonly refusal: ExpectedError) {
    super(`the idempotency key was answered a refusal: ${refusal.message}`);
    this.name = 'KeyRefusal';
  }
}

/** A short, fixed-length name for what a request asks for (its seats, or its event and count). */
export function fingerprintOf(parts: readonly string[]): string {
  return createHash('sha256').update(parts.join(',')).digest('base64url').slice(0, 22);
}

/**
 * Runs a keyed request at most once per (customer, kind, key), and answers every attempt with the
 * key's one answer: the result (an order or a hold) the key made, or the refusal it was answered.
 *
 * THE RULE. Once a refusal has been answered for a key, no attempt with that key makes an order or
 * hold; and an attempt whose twin (another attempt with the key: the client's retry after a
 * timeout, or the original, stalled in a paused instance) made the result first answers that result,
 * not a refusal. It holds durably where a twin may exist; see "what is left" below.
 *
 * The request runs first, under the key's in-flight lease ({@link KeyAttempts}). A twin still in
 * flight (the lease is held) is waited for, up to `waitMs`, and its result returned. A retry of a
 * finished request meets its own seats' marks (they name the buyer) and only then reads the key's
 * result; any other refusal (marks that name no buyer, rebuilt after a Redis flush; a sale window
 * or limit) also reads it before it is answered. A new request under an old key reaches the
 * database, whose unique index on (customer_id, idempotency_key) answers with the earlier result
 * (IdempotencyKeyReusedError when it was made of other seats, {@link sameSeatsOrReused}).
 *
 * Before a refusal is answered, the key is settled, as cheaply as its history allows:
 * - A first attempt (Redis remembers none before it) that loses to another buyer runs no query, as
 *   an unkeyed loser: its refusal goes into the key's Redis record in the same step that checks no
 *   other attempt began meanwhile. A twin that begins later finds it there and answers the same
 *   refusal, from Redis alone. A seat merely LOCKED counts as lost to another buyer only while the
 *   event's seat marks have been kept for the whole window (TicketLock.marks: since the event's
 *   creation in normal running, or since a reload from Postgres vouched for them, sales/marks.ts).
 *   After Redis lost them, and until that reload, the lock may be a doomed buyer's on a seat this
 *   key already bought, and Redis has forgotten the key's record too; the attempt then reads the
 *   key's result first.
 * - Where a twin may exist (Redis remembers an earlier attempt, or one began meanwhile), the refusal
 *   is written to Postgres first, as the key's tombstone: a row in the key's own place (orders or
 *   holds), under the key's unique index. Postgres orders it against the twin's write: if the twin's
 *   order or hold is there first (committed, or committing: the insert waits for it), the attempt
 *   answers that; otherwise the twin's insert meets the tombstone and the twin answers the
 *   tombstone's refusal, having made nothing. A check such as NOT EXISTS would not do: under READ
 *   COMMITTED each statement reads a snapshot taken before the other commits, and both go ahead;
 *   only the unique index sees uncommitted rows.
 * - A key whose result was made for another request (other seats) can make nothing more, so a loser
 *   under it is answered at once; a retry of the request that made it answers its result.
 *
 * What is left: a first attempt's quiet refusal lives in Redis only. If Redis loses the key's record
 * (a flush, a restart or failover that loses the write, or `IDEMPOTENCY_WINDOW_MS` passing) before a
 * twin that had not yet reached Redis does so (a request still unread in a paused instance), that
 * twin looks like a first attempt and may make the order or hold its client was told it did not
 * get. Closing that would cost every loser a Postgres write, which the lock exists to avoid. And a
 * loss that keeps the event's marks-since record but not a recent sold mark (a failover onto a
 * replica that lagged by the last writes, a restart from an older snapshot) is not seen: a retry
 * of a sale made just before it, met by a doomed buyer's lock, may still be refused LOCKED.
 */
export async function oncePerKey<T>(
  keys: KeyAttempts,
  request: KeyedRequest,
  store: KeyStore<T>,
  run: () => Promise<T>,
): Promise<T> {
  const name = `idempotency:${request.kind}:${request.customerId}:${request.key}`;
  const attempt = await keys.begin(name);
  if (attempt.state === 'refused') throw refusalOf(attempt.refusal);
  let record: KeyAttemptEnd | undefined;
  let ended = false;
  const endAlone = async (refusal: RefusalRecord) => {
    const alone = { refused: JSON.stringify(refusal), onlyIfAlone: true };
    ended = await keys.end(name, attempt.token, alone).catch(() => false);
    return ended;
  };
  try {
    const result = await settled(attempt, request, store, run, endAlone, keys.windowMs);
    record = { made: request.fingerprint };
    return result;
  } catch (error) {
    if (!(error instanceof KeyRefusal)) throw error;
    record = { refused: JSON.stringify(refusalRecord(error.refusal)) };
    throw error.refusal;
  } finally {
    if (!ended) await keys.end(name, attempt.token, record).catch(() => {});
  }
}

/**
 * The attempt's answer: a result, or a refusal that may be answered (thrown as is, or as a
 * KeyRefusal once it is the key's tombstone). `endAlone` records a first attempt's refusal in Redis
 * if no other attempt has begun, and says whether it did.
 */
async function settled<T>(
  attempt: Exclude<KeyAttempt, { state: 'refused' }>,
  request: KeyedRequest,
  store: KeyStore<T>,
  run: () => Promise<T>,
  endAlone: (refusal: RefusalRecord) => Promise<boolean>,
  windowMs: number,
): Promise<T> {
  if (!attempt.leased) {
    const twins = await twinsResult(store, request.waitMs);
    if (twins) return twins;
    // The twin failed or stalled: try for real; its write and this one meet in Postgres.
  }
  let refusal: ExpectedError;
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof ExpectedError) || error instanceof IdempotencyKeyReusedError) throw error;
    refusal = error;
  }
  const ours = attempt.made === request.fingerprint;
  if (ours || !(await lostToAnotherBuyer(refusal, request, windowMs))) {
    const found = await store.earlier();
    if (found) return found;
  }
  // The key's result answers another request: nothing of this one can be made under the key.
  if (attempt.state === 'made' && !ours) throw refusal;
  const record = refusalRecord(refusal);
  if (attempt.state === 'first' && (await endAlone(record))) throw refusal;
  await store.refuse(record);
  const found = await store.earlier();
  if (found) return found;
  // No row at all: the event is gone, and nothing can be made for it.
  throw new KeyRefusal(refusal);
}

/** Waits up to `waitMs` for an in-flight twin's result. */
async function twinsResult<T>(store: KeyStore<T>, waitMs: number): Promise<T | undefined> {
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    await sleep(25);
    const found = await store.earlier();
    if (found) return found;
  }
  return undefined;
}

/**
 * The key's earlier result (`found.made`, an order or a hold, with its seats as a comma-separated
 * list), when it was made of the seats asked for now (`ticketIds`, distinct).
 *
 * @throws KeyRefusal when the key's row is its refusal tombstone, or IdempotencyKeyReusedError when
 *   it was made of other seats: the request is not a retry.
 */
export function sameSeatsOrReused<T extends { id: string; refusal: unknown }>(
  key: string,
  kind: KeyedResult['kind'],
  found: { made: T; seats: string } | undefined,
  ticketIds: readonly string[],
): T | undefined {
  if (!found) return undefined;
  if (found.made.refusal != null) throw new KeyRefusal(refusalOf(found.made.refusal));
  const earlier = found.seats.split(',').filter(Boolean);
  const asked = new Set(ticketIds);
  const same = earlier.length === asked.size && earlier.every((id) => asked.has(id));
  if (!same) throw new IdempotencyKeyReusedError(key, { kind, id: found.made.id });
  return found.made;
}
