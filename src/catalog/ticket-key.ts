/** A ticket named by its event and its own id: what a Ticket node's global id carries. */
export interface TicketKey {
  eventId: string;
  ticketId: string;
}

/** A ticket's node key, `eventUuid/ticketUuid`, so a purchase knows the event without a query. */
export function ticketKey(ticket: { id: string; eventId: string }): string {
  return `${ticket.eventId}/${ticket.id}`;
}

/** Splits a ticket node key (already checked for shape by the global-id decoder). */
export function parseTicketKey(key: string): TicketKey {
  const [eventId = '', ticketId = ''] = key.split('/');
  return { eventId, ticketId };
}
