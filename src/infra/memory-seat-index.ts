import { bestRun, bestSingles, type IndexRow, indexRows } from '../catalog/best-seats.js';
import type { TicketKey } from '../catalog/ticket-key.js';
import type { PickRequest, PickResult, SeatIndex } from './seat-index.js';
import type { Lease, TicketLock } from './ticket-lock.js';

interface EventIndex {
  rows: IndexRow[];
  /** ticketId → [row, offset] */
  where: Map<string, [number, number]>;
  freeCounts: number[];
}

/** The embedded mode's index, paired with the in-process lock (which calls {@link MemorySeatIndex.freed}). */
export interface MemorySeatIndex extends SeatIndex {
  /** A seat was released or reopened: it is free again. */
  freed(seat: TicketKey): void;
}

/**
 * The embedded mode's free-seat index: the same rule as the Redis index (catalog/best-seats.ts), in
 * process, over the in-process lock. A seat the lock refuses is marked taken and the search goes on.
 */
export function createMemorySeatIndex(getLock: () => TicketLock): MemorySeatIndex {
  const events = new Map<string, EventIndex>();
  const take = (index: EventIndex, r: number, offset: number) => {
    const row = index.rows[r] as IndexRow;
    if (!row.free[offset]) return;
    row.free[offset] = false;
    index.freeCounts[r] = (index.freeCounts[r] ?? 1) - 1;
  };
  const free = (index: EventIndex, r: number, offset: number) => {
    const row = index.rows[r] as IndexRow;
    if (row.free[offset]) return;
    row.free[offset] = true;
    index.freeCounts[r] = (index.freeCounts[r] ?? 0) + 1;
  };

  /** Locks the seats at these offsets of row r: all (true) or, when `all`, none. */
  const lockOffsets = async (index: EventIndex, eventId: string, r: number, offsets: number[], all: boolean) => {
    const row = index.rows[r] as IndexRow;
    const leases: Lease[] = [];
    let missed = 0;
    for (const offset of offsets) {
      take(index, r, offset);
      const got = await getLock().acquire({ eventId, ticketId: row.ticketIds[offset] as string });
      if (got.acquired) leases.push(got.lease);
      else missed++;
    }
    if (all && missed > 0) {
      for (const lease of leases) await getLock().release(lease);
      return undefined;
    }
    return leases;
  };

  return {
    async pick(request: PickRequest): Promise<PickResult> {
      const index = events.get(request.eventId);
      if (!index) return { kind: 'lost' };
      const { quantity: n, together } = request;
      const allowed = request.sections ? new Set(request.sections) : undefined;
      const picked: Lease[] = [];
      let available = 0;
      for (let r = 0; r < index.rows.length && picked.length < n; r++) {
        const row = index.rows[r] as IndexRow;
        if (allowed && !allowed.has(row.section)) continue;
        if (request.maxPriceCents !== undefined && row.priceCents > request.maxPriceCents) continue;
        if ((index.freeCounts[r] ?? 0) <= 0) continue;
        if (!together || (index.freeCounts[r] ?? 0) >= n) {
          for (let attempt = 0; attempt < 64 && picked.length < n; attempt++) {
            const want = n - picked.length;
            let offsets: number[];
            if (row.kind === 'ga') offsets = bestSingles(row.free, want).sort((a, b) => a - b);
            else if (together) {
              const start = bestRun(row.free, n);
              offsets = start === undefined ? [] : Array.from({ length: n }, (_, i) => start + i);
            } else offsets = bestSingles(row.free, want);
            if (offsets.length === 0 || (together && offsets.length < n)) break;
            const leases = await lockOffsets(index, request.eventId, r, offsets, together && row.kind === 'seated');
            if (leases) picked.push(...leases);
          }
          if (together && picked.length < n) {
            for (const lease of picked.splice(0)) await getLock().release(lease);
          }
        }
        if (picked.length >= n) break;
        available += Math.max(0, index.freeCounts[r] ?? 0);
      }
      if (picked.length < n) {
        const total = available + picked.length;
        for (const lease of picked) await getLock().release(lease);
        return { kind: 'short', available: total };
      }
      return { kind: 'picked', leases: picked };
    },
    async rebuild(eventId, load) {
      const rows = indexRows(await load());
      const where = new Map<string, [number, number]>();
      rows.forEach((row, r) => {
        row.ticketIds.forEach((id, offset) => {
          where.set(id, [r, offset]);
        });
      });
      events.set(eventId, { rows, where, freeCounts: rows.map((row) => row.free.filter(Boolean).length) });
      return true;
    },
    async mayCheck() {
      return true;
    },
    freed(seat) {
      const index = events.get(seat.eventId);
      const at = index?.where.get(seat.ticketId);
      if (index && at) free(index, at[0], at[1]);
    },
  };
}
