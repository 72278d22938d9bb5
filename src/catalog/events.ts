import type { Db } from '../db/client.js';
import { eventsTable, ticketsTable } from '../db/schema.js';
import { InvalidInputError } from '../errors.js';
import { GA_ROW, type NewEvent, type SectionLayout, validateNewEvent } from './validate-event.js';

export type { NewEvent, SectionLayout };

/** Tickets go in slices that stay under Postgres' 65,535-parameter limit (8 columns a row). */
const INSERT_SLICE = 5000;

/** Expands a layout into ticket rows in seat-map order. */
export function layoutTickets(eventId: string, sections: SectionLayout[]): (typeof ticketsTable.$inferInsert)[] {
  const tickets: (typeof ticketsTable.$inferInsert)[] = [];
  for (const section of sections) {
    const generalAdmission = section.generalAdmission === true;
    const rows = section.generalAdmission
      ? [GA_ROW]
      : typeof section.rows === 'number'
        ? Array.from({ length: section.rows }, (_, i) => String(i + 1))
        : section.rows;
    const perRow = section.generalAdmission ? section.capacity : section.seatsPerRow;
    for (const row of rows) {
      for (let seat = 1; seat <= perRow; seat++) {
        tickets.push({
          eventId,
          section: section.name.trim(),
          row,
          seat: String(seat),
          position: tickets.length,
          priceCents: section.priceCents,
          generalAdmission,
        });
      }
    }
  }
  return tickets;
}

/**
 * Validates, then creates an event and its tickets in one transaction (a 20,000-seat venue is four
 * bulk inserts). With a fixed `id` it is idempotent: an existing event and existing seats are left
 * as they are, so a re-run duplicates nothing. A new event is told to `openMarks` before it commits
 * (its seats' Redis marks are complete from the start: TicketLock.openMarks); if that fails, the
 * event is created anyway, and keyed losers read Postgres for an idempotency window.
 *
 * @throws InvalidInputError listing every problem; nothing is written then.
 */
export async function createEvent(
  db: Db,
  input: NewEvent,
  openMarks?: (eventId: string) => Promise<void>,
): Promise<{ eventId: string; ticketsCreated: number }> {
  const problems = validateNewEvent(input);
  if (problems.length > 0) throw new InvalidInputError(problems);
  return db.transaction(async (tx) => {
    const [created] = await tx
      .insert(eventsTable)
      .values({
        id: input.id,
        name: input.name.trim(),
        venue: input.venue.trim(),
        startsAt: input.startsAt,
        saleOpensAt: input.saleOpensAt ?? null,
        saleClosesAt: input.saleClosesAt ?? null,
        perCustomerLimit: input.perCustomerLimit ?? null,
        holdMinutes: input.holdMinutes ?? null,
      })
      .onConflictDoNothing({ target: eventsTable.id })
      .returning({ id: eventsTable.id });
    const eventId = created?.id ?? input.id;
    if (!eventId) throw new Error('createEvent: insert returned no id');
    if (created && openMarks) await openMarks(eventId).catch(() => {});
    let ticketsCreated = 0;
    const tickets = layoutTickets(eventId, input.sections);
    for (let start = 0; start < tickets.length; start += INSERT_SLICE) {
      const inserted = await tx
        .insert(ticketsTable)
        .values(tickets.slice(start, start + INSERT_SLICE))
        .onConflictDoNothing()
        .returning({ id: ticketsTable.id });
      ticketsCreated += inserted.length;
    }
    return { eventId, ticketsCreated };
  });
}
