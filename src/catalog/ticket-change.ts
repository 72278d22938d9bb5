import { sql } from 'drizzle-orm';
import { type TicketStatus, ticketsTable } from '../db/schema.js';

/**
 * A committed status change of one ticket: all of the ticket that a change can touch, so a listener
 * (a seat map on any instance) needs no database read to pass it on. The one type for this idea,
 * from the SQL that returns it to the bus that carries it (which alone turns it into JSON and back).
 */
export interface TicketChange {
  id: string;
  eventId: string;
  status: TicketStatus;
  version: number;
  statusChangedAt: Date | null;
}

/** The columns of a status change, for a write's `returning(…)`. */
export const changedTicketColumns = {
  id: ticketsTable.id,
  eventId: ticketsTable.eventId,
  status: ticketsTable.status,
  version: ticketsTable.version,
  statusChangedAt: ticketsTable.statusChangedAt,
};

/** The SET of a write that puts a ticket back on sale (a cancelled order). */
export const releasedTicketValues = {
  status: 'AVAILABLE',
  version: sql`nextval('ticket_version_seq')`,
  statusChangedAt: sql`clock_timestamp()`,
} as const;
