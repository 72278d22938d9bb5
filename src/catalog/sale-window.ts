import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { type EventRow, eventsTable } from '../db/schema.js';
import { NotFoundError } from '../errors.js';

/**
 * Opens an event's sale now: an opening time in the future moves to now, and a closing time already
 * passed is cleared. `onSaleChanged` tells every instance to drop its cached window.
 */
export async function openSale(db: Db, eventId: string, onSaleChanged: (eventId: string) => void): Promise<EventRow> {
  const [event] = await db
    .update(eventsTable)
    .set({
      saleOpensAt: sql`least(coalesce(${eventsTable.saleOpensAt}, now()), now())`,
      saleClosesAt: sql`case when ${eventsTable.saleClosesAt} <= now() then null else ${eventsTable.saleClosesAt} end`,
    })
    .where(eq(eventsTable.id, eventId))
    .returning();
  if (!event) throw new NotFoundError(eventId, 'Event');
  onSaleChanged(eventId);
  return event;
}

/** Closes an event's sale now (or keeps an earlier closing time). */
export async function closeSale(db: Db, eventId: string, onSaleChanged: (eventId: string) => void): Promise<EventRow> {
  const [event] = await db
    .update(eventsTable)
    .set({ saleClosesAt: sql`least(coalesce(${eventsTable.saleClosesAt}, now()), now())` })
    .where(eq(eventsTable.id, eventId))
    .returning();
  if (!event) throw new NotFoundError(eventId, 'Event');
  onSaleChanged(eventId);
  return event;
}
