import { sql } from 'drizzle-orm';
import { type TicketStatus, ticketsTable } from '../db/schema.js';

/** The SET of a write that puts a sold ticket back on sale (a cancelled order). */
export const releasedTicketValues = {
  status: 'AVAILABLE',
  version: sql`nextval('ticket_version_seq')`,
  statusChangedAt: sql`clock_timestamp()`,
} as const;

/** The columns of a status change that listeners are told about. */
export const changedTicketColumns = {
  id: ticketsTable.id,
  eventId: ticketsTable.eventId,
  status: ticketsTable.status,
  version: ticketsTable.version,
  statusChangedAt: ticketsTable.statusChangedAt,
};

/** The ticket as it stands right after a committed status change. */
export interface ChangedTicket {
  id: string;
  eventId: string;
  status: TicketStatus;
  version: number;
  statusChangedAt: Date | null;
}
