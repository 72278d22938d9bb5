import { and, inArray, type SQL, sql } from 'drizzle-orm';
import { ticketsTable } from '../db/schema.js';
import type { SaleRequest } from './sale-request.js';

/**
 * The request's seats, found by primary key only. The event test is wrapped in `IS TRUE` so that no
 * `(event_id, …)` index can serve it: without statistics for the event (a fresh table, or an event
 * newer than the last ANALYZE) the planner otherwise picks `tickets_event_status_idx` and walks every
 * seat of the event to find one, which multiplied Postgres CPU per sale in a 10,000-seat rush
 * (figures in loadtest/results/LOG.md). The sale and hold statements (their shared seat step in seat-sql.ts) write the same test in their own SQL.
 */
export function requestedSeats(request: Pick<SaleRequest, 'eventId' | 'ticketIds'>): SQL | undefined {
  return and(inArray(ticketsTable.id, request.ticketIds), sql`(${ticketsTable.eventId} = ${request.eventId}) is true`);
}
