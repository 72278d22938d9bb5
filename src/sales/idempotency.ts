import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from '../db/client.js';
import type { OrderRow } from '../db/schema.js';
import type { TicketLock } from '../locks/ticket-lock.js';
import { orderByIdempotencyKey } from './sale-transaction.js';

/** The lock id that marks a keyed purchase in flight (a namespace apart from ticket ids). */
const inFlightId = (customerId: string, key: string) => `idempotency:${customerId}:${key}`;

/**
 * Runs a purchase at most once per (customer, key). A key already used returns its order. A twin
 * still in flight (the same key's lease is held) is waited for, up to `waitMs`, and its order is
 * returned, so a network retry gets the order, not an error. Otherwise `buy` runs under the lease.
 * The unique index on (customer_id, idempotency_key) stays the guarantee if a lease expires.
 */
export async function oncePerKey(
  db: Db,
  lock: TicketLock,
  request: { customerId: string; key: string; waitMs: number },
  buy: () => Promise<OrderRow>,
): Promise<OrderRow> {
  const earlier = await orderByIdempotencyKey(db, request.customerId, request.key);
  if (earlier) return earlier;
  const lease = await lock.acquire(inFlightId(request.customerId, request.key));
  if (!lease.acquired) {
    const deadline = Date.now() + request.waitMs;
    while (Date.now() < deadline) {
      await sleep(25);
      const twins = await orderByIdempotencyKey(db, request.customerId, request.key);
      if (twins) return twins;
    }
    // The twin failed or stalled: try for real; the unique index still allows one order per key.
  }
  try {
    return await buy();
  } finally {
    if (lease.acquired) await lock.release(lease.lease).catch(() => {});
  }
}
