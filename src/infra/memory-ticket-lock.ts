import { randomUUID } from 'node:crypto';
import type { TicketKey } from '../catalog/ticket-key.js';
import {
  type AcquireResult,
  acquireEach,
  heldMark,
  type LockTimings,
  marksState,
  markTtl,
  refusalOf,
  restoredMarkValue,
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
  /** Per event, its marks epoch and the one vouched for (redis-keys.ts). This process's memory is the only copy. */
  const marksSince = new Map<string, number>();
  const marksWhole = new Map<string, number>();
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
      if (!marksWhole.has(eventId)) marksWhole.set(eventId, 0);
    },
    async marks(eventId) {
      const since = marksSince.get(eventId) ?? now();
      marksSince.set(eventId, since);
      return marksState(since, now() - since, marksWhole.get(eventId) === since, timings.soldMarkTtlMs);
    },
    async leaseEpoch(eventId) {
      return (await lock.marks(eventId)).epoch;
    },
    async restoreMarks(eventId, epoch, marks, vouch) {
      if (marksSince.get(eventId) !== epoch) return { lost: true };
      const pending: string[] = [];
      for (const mark of marks) {
        const name = seatName({ eventId, ticketId: mark.ticketId });
        const current = live(name)?.value;
        if (current !== undefined && refusalOf(current).reason === 'LOCKED') pending.push(mark.ticketId);
        else entries.set(name, { value: restoredMarkValue(mark), expiresAt: now() + markTtl(mark, timings) });
      }
      if (vouch && pending.length === 0) marksWhole.set(eventId, epoch);
      return { lost: false, pending, vouched: vouch && pending.length === 0 };
    },
    async advanceEpoch(eventId, from, to) {
      if (marksSince.get(eventId) !== from) return false;
      marksSince.set(eventId, to);
      marksWhole.delete(eventId);
      return true;
    },
    async close() {
      clearInterval(sweep);
      entries.clear();
      marksSince.clear();
      marksWhole.clear();
    },
  };
  return lock;
}
