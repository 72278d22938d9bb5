import { randomUUID } from 'node:crypto';
import type { TicketKey } from '../catalog/ticket-key.js';
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

/** The map key of a seat. */
const seatName = (seat: TicketKey) => `${seat.eventId}/${seat.ticketId}`;

/**
 * The embedded mode's lock: the Redis lock's contract (token, TTL, compare-and-delete, sold mark)
 * over a Map. It guards one process only. `now` is injectable so tests can move time. `onFreed` is
 * told when a release or a reopen frees a seat (the in-process free-seat index listens).
 */
export function createMemoryTicketLock(
  timings: LockTimings,
  now: () => number = Date.now,
  onFreed: (seat: TicketKey) => void = () => {},
): TicketLock {
  const entries = new Map<string, Entry>();
  /** Per event, since when its marks are complete (0: since its creation). This process's memory is the only copy. */
  const marksSince = new Map<string, number>();
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

  const acquire = async (seat: TicketKey): Promise<AcquireResult> => {
    const ticketId = seatName(seat);
    const current = live(ticketId);
    if (current) return { acquired: false, ...refusalOf(current.value) };
    // randomUUID draws from a buffered pool: no getrandom() call per lock, unlike randomBytes.
    const token = randomUUID();
    entries.set(ticketId, { value: token, expiresAt: now() + timings.lockTtlMs });
    return { acquired: true, lease: { ...seat, token } };
  };
  const lock: TicketLock = {
    acquire,
    acquireAll: (seats) => acquireEach({ acquire, release: (lease) => lock.release(lease) }, seats),
    async release(lease) {
      const name = seatName(lease);
      if (live(name)?.value !== lease.token) return false;
      entries.delete(name);
      onFreed(lease);
      return true;
    },
    async markSold(lease, buyer) {
      const name = seatName(lease);
      if (live(name)?.value !== lease.token) return false;
      entries.set(name, { value: soldMark(buyer), expiresAt: now() + timings.soldMarkTtlMs });
      return true;
    },
    async markHeld(lease, buyer, ttlMs) {
      const name = seatName(lease);
      if (live(name)?.value !== lease.token) return false;
      entries.set(name, { value: heldMark(buyer), expiresAt: now() + ttlMs });
      return true;
    },
    async heldToSold(eventId, ticketIds, buyer) {
      for (const ticketId of ticketIds) {
        const name = seatName({ eventId, ticketId });
        if (live(name)?.value === heldMark(buyer))
          entries.set(name, { value: soldMark(buyer), expiresAt: now() + timings.soldMarkTtlMs });
      }
    },
    async reopen(seat) {
      entries.delete(seatName(seat));
      onFreed(seat);
    },
    async openMarks(eventId) {
      if (!marksSince.has(eventId)) marksSince.set(eventId, 0);
    },
    async marksKeptMs(eventId) {
      const since = marksSince.get(eventId) ?? now();
      marksSince.set(eventId, since);
      return Math.min(now() - since, timings.soldMarkTtlMs);
    },
    async close() {
      clearInterval(sweep);
      entries.clear();
      marksSince.clear();
    },
  };
  return lock;
}
