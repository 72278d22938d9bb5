import { sql } from 'drizzle-orm';
import { readSaleSettings } from '../catalog/sale-settings.js';
import type { Db } from '../db/client.js';
import { type TicketStatus, ticketsTable } from '../db/schema.js';
import { saleWindowError, TicketsUnavailableError, ticketNotFound, type UnavailableTicket } from './errors.js';
import { requestedSeats } from './requested-seats.js';
import type { SaleRequest } from './sale-request.js';

/**
 * Why a sale transaction changed nothing, read after its rollback (only refused buyers pay for
 * this): a missing ticket, a closed window, or the seats that were not AVAILABLE, each SOLD seat
 * naming its buyer (`holder`), so the sold mark it heals to names the buyer as a sale's own mark
 * does (locked-sale.ts, settleRefusedLeases).
 */
export async function explainRefusal(db: Db, request: SaleRequest, now: Date): Promise<Error> {
  const settings = await readSaleSettings(db, request.eventId);
  const firstId = request.ticketIds[0] ?? '';
  if (!settings) return ticketNotFound(request.eventId, firstId);
  const closed = saleWindowError(settings, now);
  if (closed) return closed;

  // Aliased by hand: Drizzle writes a column inside sql`` unqualified, and "id" would name orders.id.
  const buyer = sql<string | null>`(select o.customer_id from order_tickets ot join orders o on o.id = ot.order_id
    where ot.ticket_id = tickets.id and ot.released_at is null)`;
  const rows = await db
    .select({ id: ticketsTable.id, status: ticketsTable.status, buyer })
    .from(ticketsTable)
    .where(requestedSeats(request));
  const buyers = new Map(rows.flatMap((row) => (row.buyer ? [[row.id, row.buyer] as const] : [])));
  return seatRefusal(request, new Map(rows.map((row) => [row.id, row.status])), buyers);
}

/**
 * The refusal that the seats' current statuses explain (absent: no such seat): NotFound for a
 * missing seat, else TicketsUnavailable naming each seat that is not AVAILABLE, and the buyer of
 * each SOLD seat found in `buyers`.
 */
export function seatRefusal(
  request: SaleRequest,
  statuses: ReadonlyMap<string, TicketStatus>,
  buyers: ReadonlyMap<string, string> = new Map(),
): Error {
  const missing = request.ticketIds.find((id) => !statuses.has(id));
  if (missing) return ticketNotFound(request.eventId, missing);

  const unavailable: UnavailableTicket[] = [];
  for (const [ticketId, status] of statuses) {
    if (status === 'SOLD')
      unavailable.push({ ticketId, eventId: request.eventId, reason: status, holder: buyers.get(ticketId) });
    else if (status !== 'AVAILABLE') unavailable.push({ ticketId, eventId: request.eventId, reason: status });
  }
  // Every seat is AVAILABLE again: the refusal lost a race with a release. Trying again may work.
  if (unavailable.length === 0) {
    for (const ticketId of request.ticketIds)
      unavailable.push({ ticketId, eventId: request.eventId, reason: 'LOCKED' });
  }
  return new TicketsUnavailableError(unavailable);
}
