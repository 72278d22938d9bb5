import { randomUUID } from 'node:crypto';
import {
  type AcquireResult,
  acquireEach,
  heldMark,
  type LockTimings,
  refusalOf,
  soldMark,
  type TicketLock,
} from './ticket-lock.js';

interface Entry {
  value: string;
  expiresAt: number;
}

/**
 * The embedded mode's lock: the Redis lock's contract (token, TTL, compare-and-delete, sold mark)
 * over a Map. It guards one process only. `now` is injectable so tests can move time.
 */
export function createMemoryTicketLock(timings: LockTimings, now: () => number = Date.now): TicketLock {
  const entries = new Map<string, Entry>();
  const live = (ticketId: string): Entry | undefined => {
    const entry = entries.get(ticketId);
    if (entry && entry.expiresAt <= now()) {
      entries.delete(ticketId);
      return undefined;
    }
    return entry;
  };
  const sweep = setInterval(() => {
    for (const ticketId of entries.keys()) live(ticketId);
  }, 60_000);
  sweep.unref();

  const acquire = async (ticketId: string): Promise<AcquireResult> => {
    const current = live(ticketId);
    if (current) return { acquired: false, ...refusalOf(current.value) };
    // randomUUID draws from a buffered pool: no getrandom() call per lock, unlike randomBytes.
    const token = randomUUID();
    entries.set(ticketId, { value: token, expiresAt: now() + timings.lockTtlMs });
    return { acquired: true, lease: { ticketId, token } };
  };
  const lock: TicketLock = {
    acquire,
    acquireAll: (ticketIds) => acquireEach({ acquire, release: (lease) => lock.release(lease) }, ticketIds),
    async release(lease) {
      if (live(lease.ticketId)?.value !== lease.token) return false;
      entries.delete(lease.ticketId);
      return true;
    },
    async markSold(lease, buyer) {
      if (live(lease.ticketId)?.value !== lease.token) return false;
      entries.set(lease.ticketId, { value: soldMark(buyer), expiresAt: now() + timings.soldMarkTtlMs });
      return true;
    },
    async markHeld(lease, buyer, ttlMs) {
      if (live(lease.ticketId)?.value !== lease.token) return false;
      entries.set(lease.ticketId, { value: heldMark(buyer), expiresAt: now() + ttlMs });
      return true;
    },
    async heldToSold(ticketIds, buyer) {
      for (const id of ticketIds) {
        if (live(id)?.value === heldMark(buyer))
          entries.set(id, { value: soldMark(buyer), expiresAt: now() + timings.soldMarkTtlMs });
      }
    },
    async reopen(ticketId) {
      entries.delete(ticketId);
    },
    async close() {
      clearInterval(sweep);
      entries.clear();
    },
  };
  return lock;
}
