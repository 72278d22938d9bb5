import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from '../db/client.js';
import { ExpectedError } from '../errors.js';
import type { TicketLock } from '../infra/ticket-lock.js';
import { TicketsUnavailableError } from './errors.js';
import { orderByIdempotencyKey } from './sale-transaction.js';
import type { Sale } from './settle.js';

/** The lock id that marks a keyed purchase in flight (a namespace apart from ticket ids). */
const inFlightId = (customerId: string, key: string) => `idempotency:${customerId}:${key}`;

/**
 * True when `error` says another buyer has one of the seats now: a seat locked, or sold to someone
 * else by its sold mark. Such a refusal cannot hide this customer's own earlier order for the key,
 * so it is returned as it is, with no database query, like any other loser's.
 */
function lostToAnotherBuyer(error: unknown, customerId: string): boolean {
  return (
    error instanceof TicketsUnavailableError &&
    error.tickets.some(
      (t) => t.reason === 'LOCKED' || (t.reason === 'SOLD' && t.soldTo !== undefined && t.soldTo !== customerId),
    )
  );
}

/**
 * Runs a purchase at most once per (customer, key), and answers a retry with the key's order.
 *
 * The purchase runs first, under the key's in-flight lease: a retry of a finished purchase meets its
 * own seats' sold marks (they name the buyer) and only then reads the key's order, so a keyed buyer
 * who lost a seat to someone else is refused without a query, as an unkeyed one is. Any other refusal
 * (sold marks that name no buyer, rebuilt after a Redis flush; a sale window or limit) also looks the
 * key up before it is returned. A new purchase under an old key reaches the sale statement, whose unique
 * index on (customer_id, idempotency_key) answers with the earlier order. A twin still in flight (the
 * lease is held) is waited for, up to `waitMs`, and its order is returned.
 */
export async function oncePerKey(
  db: Db,
  lock: TicketLock,
  request: { customerId: string; key: string; waitMs: number },
  buy: () => Promise<Sale>,
): Promise<Sale> {
  const lease = await lock.acquire(inFlightId(request.customerId, request.key));
  if (!lease.acquired) {
    const deadline = Date.now() + request.waitMs;
    while (Date.now() < deadline) {
      await sleep(25);
      const twins = await orderByIdempotencyKey(db, request.customerId, request.key);
      if (twins) return { order: twins, changed: [] };
    }
    // The twin failed or stalled: try for real; the unique index still allows one order per key.
  }
  try {
    return await buy();
  } catch (error) {
    if (!(error instanceof ExpectedError) || lostToAnotherBuyer(error, request.customerId)) throw error;
    const earlier = await orderByIdempotencyKey(db, request.customerId, request.key);
    if (earlier) return { order: earlier, changed: [] };
    throw error;
  } finally {
    if (lease.acquired) await lock.release(lease.lease).catch(() => {});
  }
}
