import type { Availability } from '../catalog/storage.js';
import type { TicketChange } from '../catalog/ticket-change.js';
import type { TicketRow, TicketStatus } from '../db/schema.js';

/** Tickets are checked against the database in blocks of this many consecutive seat-map positions. */
export const CHECK_BLOCK = 256;

/** The block of a seat-map position (as `ticketBlockTotals` computes it in SQL). */
const blockOf = (position: number): number => Math.floor(position / CHECK_BLOCK);

/** How many tickets a block holds and the sum of their versions, by block. */
export type BlockTotals = Map<number, { tickets: number; versionSum: number }>;

/** What {@link EventTickets.apply} did with a state. */
export type Applied = 'changed' | 'stale' | 'unknown';

const COUNTED: Record<TicketStatus, 'available' | 'held' | 'sold'> = {
  AVAILABLE: 'available',
  HELD: 'held',
  SOLD: 'sold',
};

/**
 * Every ticket of one event as this instance last heard of it, and the counts that follow from
 * them. A state replaces a ticket's only when its version is higher: versions come from one
 * sequence and rise with every change of a ticket, so states may arrive late, out of order or twice.
 * Rows are replaced, never changed, so a row handed out (in a live message) stays as it was.
 */
export class EventTickets {
  private readonly rows = new Map<string, TicketRow>();
  private readonly tally: Availability = { available: 0, held: 0, sold: 0, total: 0 };
  private readonly blocks: BlockTotals = new Map();

  constructor(rows: readonly TicketRow[]) {
    for (const row of rows) this.merge(row);
  }

  /** Applies a change to a known ticket; an unknown one is left for a full row to add. */
  apply(state: Pick<TicketChange, 'id' | 'status' | 'version' | 'statusChangedAt'>): Applied {
    const known = this.rows.get(state.id);
    if (!known) return 'unknown';
    if (state.version <= known.version) return 'stale';
    this.tally[COUNTED[known.status]]--;
    this.tally[COUNTED[state.status]]++;
    this.block(known.position).versionSum += state.version - known.version;
    this.rows.set(state.id, {
      ...known,
      status: state.status,
      version: state.version,
      statusChangedAt: state.statusChangedAt,
    });
    return 'changed';
  }

  /** Applies a full row read from the database: adds a ticket not seen before, or applies a newer state. */
  merge(row: TicketRow): Applied {
    if (this.rows.has(row.id)) return this.apply(row);
    this.rows.set(row.id, row);
    this.tally[COUNTED[row.status]]++;
    this.tally.total++;
    const block = this.block(row.position);
    block.tickets++;
    block.versionSum += row.version;
    return 'changed';
  }

  /** The ticket's latest known row. */
  row(id: string): TicketRow | undefined {
    return this.rows.get(id);
  }

  /**
   * Per block of positions: how many tickets, and the sum of their versions. A copy only ever holds
   * committed versions, and a ticket's version only rises, so a block whose totals equal the
   * database's, read at that moment or later, holds every ticket exactly as the database does.
   */
  blockTotals(): BlockTotals {
    return new Map([...this.blocks].map(([block, totals]) => [block, { ...totals }]));
  }

  /** The counts now, as a copy of their own. */
  counts(): Availability {
    return { ...this.tally };
  }

  private block(position: number): { tickets: number; versionSum: number } {
    const key = blockOf(position);
    let totals = this.blocks.get(key);
    if (!totals) {
      totals = { tickets: 0, versionSum: 0 };
      this.blocks.set(key, totals);
    }
    return totals;
  }
}
