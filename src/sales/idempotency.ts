import { setTimeout as sleep } from 'node:timers/promises';
import { ExpectedError } from '../errors.js';
import { namedLease, type TicketLock } from '../infra/ticket-lock.js';
import { IdempotencyKeyReusedError, type KeyedResult, TicketsUnavailableError } from './errors.js';

/**
 * True when `error` says another buyer has one of the seats now: a seat locked, or held or sold to
 * someone else by its mark. Such a refusal cannot hide this customer's own earlier result for the
 * key, so it is returned as it is, with no database query, like any other loser's.
 */
function lostToAnotherBuyer(error: unknown, customerId: string): boolean {
  return (
    error instanceof TicketsUnavailableError &&
    error.tickets.some((t) => t.reason === 'LOCKED' || (t.holder !== undefined && t.holder !== customerId))
  );
}

/** A keyed request: `kind` keeps purchase and hold keys apart. */
export interface KeyedRequest {
  kind: 'purchase' | 'hold';
  customerId: string;
  key: string;
  /** How long a retry waits for its in-flight twin (the lock TTL). */
  waitMs: number;
}

/**
 * Runs a keyed request at most once per (customer, key), and answers a retry with what the key made
 * (`earlier` reads it: the order, or the hold).
 *
 * The request runs first, under the key's in-flight lease: a retry of a finished request meets its
 * own seats' marks (they name the buyer) and only then reads the key's result, so a keyed buyer who
 * lost a seat to someone else is refused without a query, as an unkeyed one is. Any other refusal
 * (marks that name no buyer, rebuilt after a Redis flush; a sale window or limit) also looks the key
 * up before it is returned. A new request under an old key reaches the database, whose unique index
 * on (customer_id, idempotency_key) answers with the earlier result. A twin still in flight (the
 * lease is held) is waited for, up to `waitMs`, and its result is returned. `earlier` throws
 * IdempotencyKeyReusedError when the key's result was made of other seats ({@link sameSeatsOrReused}).
 */
export async function oncePerKey<T>(
  lock: TicketLock,
  request: KeyedRequest,
  earlier: () => Promise<T | undefined>,
  run: () => Promise<T>,
): Promise<T> {
  const lease = await lock.acquire(namedLease(`idempotency:${request.kind}:${request.customerId}:${request.key}`));
  if (!lease.acquired) {
    const deadline = Date.now() + request.waitMs;
    while (Date.now() < deadline) {
      await sleep(25);
      const twins = await earlier();
      if (twins) return twins;
    }
    // The twin failed or stalled: try for real; the unique index still allows one result per key.
  }
  try {
    return await run();
  } catch (error) {
    if (
      !(error instanceof ExpectedError) ||
      error instanceof IdempotencyKeyReusedError ||
      lostToAnotherBuyer(error, request.customerId)
    )
      throw error;
    const found = await earlier();
    if (found) return found;
    throw error;
  } finally {
    if (lease.acquired) await lock.release(lease.lease).catch(() => {});
  }
}

/**
 * The key's earlier result (`found.made`, an order or a hold, with its seats as a comma-separated
 * list), when it was made of the seats asked for now (`ticketIds`, distinct).
 *
 * @throws IdempotencyKeyReusedError when it was made of other seats: the request is not a retry.
 */
export function sameSeatsOrReused<T extends { id: string }>(
  key: string,
  kind: KeyedResult['kind'],
  found: { made: T; seats: string } | undefined,
  ticketIds: readonly string[],
): T | undefined {
  if (!found) return undefined;
  const earlier = found.seats.split(',').filter(Boolean);
  const asked = new Set(ticketIds);
  const same = earlier.length === asked.size && earlier.every((id) => asked.has(id));
  if (!same) throw new IdempotencyKeyReusedError(key, { kind, id: found.made.id });
  return found.made;
}
