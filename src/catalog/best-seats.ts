import { asc, eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { type TicketStatus, ticketsTable } from '../db/schema.js';

/**
 * The "best available" rule, in one place. Rows are ranked in laid-out order: sections as the
 * organizer listed them, then rows front to back. Asked for N seats:
 *
 * - `together` (the default): the first row, in rank order, with N adjacent free seats; within it,
 *   the run whose middle is nearest the row's middle (the leftmost of two equally near). A
 *   general-admission section counts as one row whose units are all adjacent: any N free units.
 * - not `together`: the N best single seats, row by row in rank order, each row's seats nearest its
 *   middle first (left before right on a tie).
 *
 * `sections` (names) and `maxPriceCents` only leave rows out. The Redis index runs the same rule in
 * Lua (infra/seat-index-lua.ts); the embedded mode runs these functions.
 */
export const BEST_SEATS_RULE = 'sections in laid-out order, then front rows, then the seats nearest the row middle';

/** A ticket as the free-seat index needs it. */
export interface IndexTicket {
  id: string;
  section: string;
  row: string;
  position: number;
  priceCents: number;
  generalAdmission: boolean;
  status: TicketStatus;
}

/** One row of the index (a general-admission section is one row): its seats in seat order. */
export interface IndexRow {
  kind: 'seated' | 'ga';
  section: string;
  priceCents: number;
  ticketIds: string[];
  /** Per seat, in seat order: free (AVAILABLE when read). */
  free: boolean[];
}

/** Groups an event's tickets into rows in rank order (by seat-map position). */
export function indexRows(tickets: readonly IndexTicket[]): IndexRow[] {
  const sorted = [...tickets].sort((a, b) => a.position - b.position);
  const rows: IndexRow[] = [];
  let last: { section: string; row: string } | undefined;
  for (const ticket of sorted) {
    if (!last || last.section !== ticket.section || last.row !== ticket.row) {
      rows.push({
        kind: ticket.generalAdmission ? 'ga' : 'seated',
        section: ticket.section,
        priceCents: ticket.priceCents,
        ticketIds: [],
        free: [],
      });
      last = ticket;
    }
    const row = rows[rows.length - 1] as IndexRow;
    row.ticketIds.push(ticket.id);
    row.free.push(ticket.status === 'AVAILABLE');
    // A row's price is its dearest seat's, so maxPriceCents never lets a dearer seat through.
    if (ticket.priceCents > row.priceCents) row.priceCents = ticket.priceCents;
  }
  return rows;
}

/** The offset of the best run of `k` adjacent free seats in a row (see the rule), or undefined. */
export function bestRun(free: readonly boolean[], k: number): number | undefined {
  const length = free.length;
  let best: number | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  let run = 0;
  for (let i = 0; i < length; i++) {
    run = free[i] ? run + 1 : 0;
    if (run >= k) {
      const start = i - k + 1;
      const score = Math.abs(2 * start + k - length);
      if (score < bestScore) {
        best = start;
        bestScore = score;
      }
    }
  }
  return best;
}

/** Up to `k` free offsets of a row, nearest its middle first (left before right on a tie). */
export function bestSingles(free: readonly boolean[], k: number): number[] {
  const length = free.length;
  const offsets: number[] = [];
  for (let i = 0; i < length; i++) if (free[i]) offsets.push(i);
  const score = (i: number) => Math.abs(2 * i + 1 - length);
  return offsets.sort((a, b) => score(a) - score(b) || a - b).slice(0, k);
}

/** An event's tickets as the index needs them, read from Postgres (the index's source of truth). */
export function indexTicketsOf(db: Db, eventId: string): Promise<IndexTicket[]> {
  return db
    .select({
      id: ticketsTable.id,
      section: ticketsTable.section,
      row: ticketsTable.row,
      position: ticketsTable.position,
      priceCents: ticketsTable.priceCents,
      generalAdmission: ticketsTable.generalAdmission,
      status: ticketsTable.status,
    })
    .from(ticketsTable)
    .where(eq(ticketsTable.eventId, eventId))
    .orderBy(asc(ticketsTable.position));
}
