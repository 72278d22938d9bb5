import { parseTicketKey, ticketKey } from '../../catalog/ticket-key.js';
import { builder } from '../builder.js';
import { EventRef, TicketRef } from './refs.js';

/** The status of a seat. */
export const TicketStatusEnum = builder.enumType('TicketStatus', {
  description: 'Where a ticket stands in the sale.',
  values: {
    AVAILABLE: { description: 'Can be bought.' },
    HELD: { description: 'Held for a buyer who is checking out.' },
    SOLD: { description: 'Sold.' },
  } as const,
});

builder.node(TicketRef, {
  description: 'One seat at one event.',
  id: { resolve: ticketKey },
  loadOne: async (key, context) => {
    const { eventId, ticketId } = parseTicketKey(key);
    const ticket = await context.loaders.ticket.load(ticketId);
    return ticket?.eventId === eventId ? ticket : null;
  },
  fields: (t) => ({
    section: t.exposeString('section'),
    row: t.exposeString('row'),
    seat: t.exposeString('seat', { description: 'The seat label within its row.' }),
    priceCents: t.exposeInt('priceCents', { description: 'Price in the smallest currency unit.' }),
    status: t.field({ type: TicketStatusEnum, resolve: (ticket) => ticket.status }),
    version: t.expose('version', {
      type: 'Version',
      description:
        'Grows with every status change of this ticket. Of two states of one ticket, the higher version is newer (see the README).',
    }),
    statusChangedAt: t.expose('statusChangedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the status last changed, stamped by Postgres in the changing write; null if never.',
    }),
    event: t.field({
      type: EventRef,
      resolve: async (ticket, _args, context) => {
        const event = await context.loaders.event.load(ticket.eventId);
        if (!event) throw new Error(`ticket ${ticket.id} has no event`);
        return event;
      },
    }),
  }),
});
