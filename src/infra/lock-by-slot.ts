import { randomUUID } from 'node:crypto';
import type { TicketKey } from '../catalog/ticket-key.js';
import { groupBySlot } from './slot-groups.js';
import {
  type AcquireAllResult,
  type AcquireResult,
  type Lease,
  refusalOf,
  releaseQuietly,
  type SeatRefusal,
} from './ticket-lock.js';

/** How one slot's seats are locked: a lone seat by itself, several by one all-or-nothing script. */
export interface SlotLocking {
  single(seat: TicketKey): Promise<AcquireResult>;
  /** Takes every key with `token` or none; answers each key's value before ('' when it was free). */
  together(keys: string[], token: string): Promise<string[]>;
  release(lease: Lease): Promise<boolean>;
}

/** What one slot's attempt gave: its leases, or its refusals (and nothing held). */
type SlotOutcome = { leases: Lease[]; refused: SeatRefusal[] };

/**
 * {@link TicketLock.acquireAll} on Redis, generic over the key layout: the seats are grouped by their
 * keys' slot ({@link groupBySlot}; the seats of one event share its hash tag, so one event's seats
 * are one group); each group is one command (`SET … NX GET` or one script, atomic
 * within the slot), and every group is sent in the same tick, so auto-pipelining sends one round trip
 * per node. When any group is refused or fails, the others' locks are released: all or nothing.
 */
export async function lockBySlot(
  seats: readonly TicketKey[],
  keyOf: (seat: TicketKey) => string,
  locking: SlotLocking,
): Promise<AcquireAllResult> {
  const keys = seats.map(keyOf);
  const attempts = await Promise.allSettled(
    groupBySlot(keys).map(async ({ indexes }): Promise<SlotOutcome> => {
      const group = indexes.map((i) => seats[i] as TicketKey);
      if (group.length === 1) {
        const [seat] = group as [TicketKey];
        const taken = await locking.single(seat);
        return taken.acquired
          ? { leases: [taken.lease], refused: [] }
          : { leases: [], refused: [{ ticketId: seat.ticketId, reason: taken.reason, holder: taken.holder }] };
      }
      const token = randomUUID();
      const previous = await locking.together(
        indexes.map((i) => keys[i] as string),
        token,
      );
      const refused = group.flatMap((seat, i) => {
        const value = previous[i];
        return value ? [{ ticketId: seat.ticketId, ...refusalOf(value) }] : [];
      });
      return refused.length > 0
        ? { leases: [], refused }
        : { leases: group.map((seat) => ({ ...seat, token })), refused };
    }),
  );
  // Answered in the request's order, whatever the slots' order.
  const place = (seat: { ticketId: string }) => seats.findIndex((s) => s.ticketId === seat.ticketId);
  const byPlace = (a: { ticketId: string }, b: { ticketId: string }) => place(a) - place(b);
  const leases = attempts.flatMap((a) => (a.status === 'fulfilled' ? a.value.leases : [])).sort(byPlace);
  const refused = attempts.flatMap((a) => (a.status === 'fulfilled' ? a.value.refused : [])).sort(byPlace);
  const failure = attempts.find((a) => a.status === 'rejected');
  if (failure || refused.length > 0) await releaseQuietly(locking, leases);
  if (failure) throw failure.reason;
  return refused.length > 0 ? { acquired: false, refused } : { acquired: true, leases };
}
