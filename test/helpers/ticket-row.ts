import type { TicketRow } from '../../src/db/schema.js';

/** A ticket row of event `e` for tests that need no database: `id` doubles as the seat name. */
export const ticketRow = (id: string, version: number, status: TicketRow['status'] = 'AVAILABLE'): TicketRow => ({
  id,
  eventId: 'e',
  section: 'S',
  row: '1',
  seat: id,
  position: 0,
  priceCents: 1,
  generalAdmission: false,
  status,
  version,
  statusChangedAt: null,
  holdId: status === 'HELD' ? 'h' : null,
});
