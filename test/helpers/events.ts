import type { App } from '../../src/app.js';
import type { NewEvent, SectionLayout } from '../../src/catalog/events.js';
import { encodeGlobalId, ticketGlobalId } from '../../src/graphql/global-id.js';

/** An event made for a test, with each id in both forms: as the database holds it, and as clients send it. */
export interface TestEvent {
  /** The event's database id (a UUID). */
  eventId: string;
  /** The event's GraphQL id. */
  eventGlobalId: string;
  /** Its tickets' database ids, in seat-map order. */
  ticketIds: string[];
  /** Its tickets' GraphQL ids, in seat-map order. */
  ticketGlobalIds: string[];
}

/**
 * A test event's layout, one row of `seats` seats at `priceCents` unless `sections` says otherwise,
 * and any rule of a new event (sale window, per-customer limit…).
 */
export type TestEventOptions = Partial<Omit<NewEvent, 'sections'>> & {
  seats: number;
  priceCents?: number;
  sections?: SectionLayout[];
};

/** Creates "Test Night" and its tickets through the app's event service, as the organizer API does. */
export async function createEventWithTickets(api: { app: App }, options: TestEventOptions): Promise<TestEvent> {
  const { seats, priceCents = 5000, sections, ...rules } = options;
  const { db } = api.app.services;
  const { eventId } = await api.app.services.createEvent({
    name: 'Test Night',
    venue: 'Test Hall',
    startsAt: new Date('2030-01-01T20:00:00Z'),
    sections: sections ?? [{ name: 'Main', rows: ['A'], seatsPerRow: seats, priceCents }],
    ...rules,
  });
  const tickets = await db.query.ticketsTable.findMany({
    columns: { id: true, eventId: true },
    where: (t, { eq }) => eq(t.eventId, eventId),
    orderBy: (t, { asc }) => asc(t.position),
  });
  return {
    eventId,
    eventGlobalId: encodeGlobalId('Event', eventId),
    ticketIds: tickets.map((ticket) => ticket.id),
    ticketGlobalIds: tickets.map((ticket) => ticketGlobalId(ticket)),
  };
}
