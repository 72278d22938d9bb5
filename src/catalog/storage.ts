import { and, asc, count, desc, eq, gt, inArray, lt, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { type EventRow, eventsTable, type TicketRow, type TicketStatus, ticketsTable } from '../db/schema.js';
import type { KeysetPage } from './keyset-page.js';

/** Ticket counts of one event by status. */
export interface Availability {
  available: number;
  held: number;
  sold: number;
  total: number;
}

/**
 * `(startsAt, id)` beyond the event named `id`, in direction `compare`: compared with that row's own
 * values in SQL, so the cursor carries only the id. An id that names no event matches nothing.
 */
function beyondEvent(compare: '>' | '<', id: string): SQL {
  return sql`(${eventsTable.startsAt}, ${eventsTable.id}) ${sql.raw(compare)} (select e.starts_at, e.id from events e where e.id = ${id})`;
}

/** Events in start order (ties by id), a keyset page keyed by event id. */
export function listEvents(db: Db, page: KeysetPage<string>): Promise<EventRow[]> {
  const order = page.inverted ? desc : asc;
  return db
    .select()
    .from(eventsTable)
    .where(
      and(
        page.after === undefined ? undefined : beyondEvent('>', page.after),
        page.before === undefined ? undefined : beyondEvent('<', page.before),
      ),
    )
    .orderBy(order(eventsTable.startsAt), order(eventsTable.id))
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

/**
 * An event's tickets in seat-map order, optionally only those with one status: a keyset page keyed
 * by seat-map position, so seats that change status between pages shift no other seat.
 */
export function listEventTickets(
  db: Db,
  eventId: string,
  filter: { status?: TicketStatus | undefined },
  page: KeysetPage<number>,
): Promise<TicketRow[]> {
  const conditions = [eq(ticketsTable.eventId, eventId)];
  if (filter.status) conditions.push(eq(ticketsTable.status, filter.status));
  if (page.after !== undefined) conditions.push(gt(ticketsTable.position, page.after));
  if (page.before !== undefined) conditions.push(lt(ticketsTable.position, page.before));
  return db
    .select()
    .from(ticketsTable)
    .where(and(...conditions))
    .orderBy(page.inverted ? desc(ticketsTable.position) : asc(ticketsTable.position))
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
  const [ticket] = await listEventTickets(db, eventId, { status: 'AVAILABLE' }, { limit: 1, inverted: false });
  return ticket;
}
