import { and, asc, count, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { type EventRow, eventsTable, type TicketRow, type TicketStatus, ticketsTable } from '../db/schema.js';

/** Ticket counts of one event by status. */
export interface Availability {
  available: number;
  held: number;
  sold: number;
  total: number;
}

/** A page request: `limit` rows after skipping `offset`. */
export interface Page {
  offset: number;
  limit: number;
}

/** Events in start order. */
export function listEvents(db: Db, page: Page): Promise<EventRow[]> {
  return db
    .select()
    .from(eventsTable)
    .orderBy(asc(eventsTable.startsAt), asc(eventsTable.id))
    .offset(page.offset)
    .limit(page.limit);
}

/** Events by id, in no particular order. */
export function eventsByIds(db: Db, ids: readonly string[]): Promise<EventRow[]> {
  return db
    .select()
    .from(eventsTable)
    .where(inArray(eventsTable.id, [...ids]));
}

/** Tickets by id, in no particular order. */
export function ticketsByIds(db: Db, ids: readonly string[]): Promise<TicketRow[]> {
  return db
    .select()
    .from(ticketsTable)
    .where(inArray(ticketsTable.id, [...ids]));
}

/** A ticket's block of `size` consecutive seat-map positions, in SQL. */
const positionBlock = (size: number) =>
  sql<number>`(${ticketsTable.position} / ${sql.raw(String(Math.trunc(size)))})::int`;

/**
 * An event's tickets in blocks of `blockSize` consecutive positions: per block, how many and the sum
 * of their versions. A cheap check of a copy of them: one row per block, whatever the venue's size.
 */
export async function ticketBlockTotals(
  db: Db,
  eventId: string,
  blockSize: number,
): Promise<Map<number, { tickets: number; versionSum: number }>> {
  const block = positionBlock(blockSize);
  const rows = await db
    .select({ block, tickets: count(), versionSum: sql<string>`sum(${ticketsTable.version})::text` })
    .from(ticketsTable)
    .where(eq(ticketsTable.eventId, eventId))
    .groupBy(block);
  return new Map(rows.map((row) => [Number(row.block), { tickets: row.tickets, versionSum: Number(row.versionSum) }]));
}

/** An event's tickets in the given blocks of `blockSize` positions (all of them when `blocks` is undefined). */
export function ticketsOfEvent(
  db: Db,
  eventId: string,
  blocks?: { size: number; ids: number[] },
): Promise<TicketRow[]> {
  const inEvent = eq(ticketsTable.eventId, eventId);
  if (!blocks) return db.select().from(ticketsTable).where(inEvent);
  return db
    .select()
    .from(ticketsTable)
    .where(and(inEvent, inArray(positionBlock(blocks.size), blocks.ids)));
}

/** An event's tickets in seat-map order, optionally only those with one status. */
export function listEventTickets(
  db: Db,
  eventId: string,
  filter: { status?: TicketStatus | undefined },
  page: Page,
): Promise<TicketRow[]> {
  const conditions = [eq(ticketsTable.eventId, eventId)];
  if (filter.status) conditions.push(eq(ticketsTable.status, filter.status));
  return db
    .select()
    .from(ticketsTable)
    .where(and(...conditions))
    .orderBy(asc(ticketsTable.position))
    .offset(page.offset)
    .limit(page.limit);
}

/** Counts by status for each event, in one grouped query. Events without tickets get zeros. */
export async function availabilityByEventIds(db: Db, eventIds: readonly string[]): Promise<Map<string, Availability>> {
  const rows = await db
    .select({ eventId: ticketsTable.eventId, status: ticketsTable.status, n: count() })
    .from(ticketsTable)
    .where(inArray(ticketsTable.eventId, [...eventIds]))
    .groupBy(ticketsTable.eventId, ticketsTable.status);
  const result = new Map<string, Availability>();
  for (const id of eventIds) result.set(id, { available: 0, held: 0, sold: 0, total: 0 });
  for (const row of rows) {
    const counts = result.get(row.eventId);
    if (!counts) continue;
    if (row.status === 'AVAILABLE') counts.available = row.n;
    else if (row.status === 'HELD') counts.held = row.n;
    else counts.sold = row.n;
    counts.total += row.n;
  }
  return result;
}

/** One section of an event: its price, its kind and its counts by status. */
export interface SectionAvailability extends Availability {
  name: string;
  priceCents: number;
  generalAdmission: boolean;
}

/** Each event's sections in laid-out order, with their counts, in one grouped query. */
export async function sectionsByEventIds(
  db: Db,
  eventIds: readonly string[],
): Promise<Map<string, SectionAvailability[]>> {
  const byStatus = (status: TicketStatus) =>
    sql<number>`(count(*) filter (where ${ticketsTable.status} = ${status}))::int`;
  const rows = await db
    .select({
      eventId: ticketsTable.eventId,
      name: ticketsTable.section,
      priceCents: sql<number>`min(${ticketsTable.priceCents})::int`,
      generalAdmission: sql<boolean>`bool_or(${ticketsTable.generalAdmission})`,
      available: byStatus('AVAILABLE'),
      held: byStatus('HELD'),
      sold: byStatus('SOLD'),
      total: count(),
    })
    .from(ticketsTable)
    .where(inArray(ticketsTable.eventId, [...eventIds]))
    .groupBy(ticketsTable.eventId, ticketsTable.section)
    .orderBy(sql`min(${ticketsTable.position})`);
  const result = new Map<string, SectionAvailability[]>(eventIds.map((id) => [id, []]));
  for (const { eventId, ...section } of rows) result.get(eventId)?.push(section);
  return result;
}

/** The first available seat of an event in seat-map order, or undefined. */
export async function firstAvailableTicket(db: Db, eventId: string): Promise<TicketRow | undefined> {
  const [ticket] = await listEventTickets(db, eventId, { status: 'AVAILABLE' }, { offset: 0, limit: 1 });
  return ticket;
}
