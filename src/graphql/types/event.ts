import { saleStateAt } from '../../catalog/sale-settings.js';
import { listEvents, listEventTickets } from '../../catalog/storage.js';
import type { EventRow, TicketRow } from '../../db/schema.js';
import { builder } from '../builder.js';
import { idCursor, resolveKeysetConnection, SEAT_POSITION_CURSOR } from '../keyset.js';
import { DEFAULT_PAGE, pageSizeExtension, SEAT_MAP_PAGE } from '../page-sizes.js';
import { AvailabilityRef, EventRef, SectionRef, TicketRef } from './refs.js';
import { TicketStatusEnum } from './ticket.js';

const EVENT_CURSOR = idCursor('Event');

AvailabilityRef.implement({
  description: 'Ticket counts of an event by status.',
  fields: (t) => ({
    available: t.exposeInt('available'),
    held: t.exposeInt('held'),
    sold: t.exposeInt('sold'),
    total: t.exposeInt('total'),
  }),
});

SectionRef.implement({
  description: 'A block of seats at one price (or a general-admission area), with its counts by status.',
  fields: (t) => ({
    name: t.exposeString('name'),
    priceCents: t.exposeInt('priceCents'),
    generalAdmission: t.exposeBoolean('generalAdmission', {
      description: 'Units with no seat of their own: buy them with holdBestAvailable.',
    }),
    available: t.exposeInt('available'),
    held: t.exposeInt('held'),
    sold: t.exposeInt('sold'),
    total: t.exposeInt('total'),
  }),
});

builder.node(EventRef, {
  description: 'Something people buy tickets for.',
  id: { resolve: (event) => event.id },
  loadOne: (id, context) => context.loaders.event.load(id),
  fields: (t) => ({
    name: t.exposeString('name'),
    venue: t.exposeString('venue'),
    startsAt: t.expose('startsAt', { type: 'DateTime' }),
    saleOpensAt: t.expose('saleOpensAt', { type: 'DateTime', nullable: true, description: 'Null: open already.' }),
    saleClosesAt: t.expose('saleClosesAt', { type: 'DateTime', nullable: true, description: 'Null: no set end.' }),
    onSale: t.boolean({
      description: 'Whether purchases are accepted now.',
      resolve: (event) => saleStateAt(event, new Date()).open,
    }),
    perCustomerLimit: t.exposeInt('perCustomerLimit', {
      nullable: true,
      description: 'Most tickets one customer may hold for this event; null for no limit.',
    }),
    availability: t.field({
      type: AvailabilityRef,
      resolve: (event, _args, context) => context.loaders.availability.load(event.id),
    }),
    sections: t.field({
      type: [SectionRef],
      description: 'The sections in laid-out order (the order holdBestAvailable prefers them in), with their counts.',
      resolve: (event, _args, context) => context.loaders.sections.load(event.id),
    }),
    tickets: t.connection({
      type: TicketRef,
      description:
        'Seats in seat-map order. Up to 1000 a page, so a seat map loads in a few requests. Cursors name a seat, so paging under `status` while seats sell skips and repeats none.',
      args: { status: t.arg({ type: TicketStatusEnum, description: 'Only tickets with this status.' }) },
      ...pageSizeExtension(SEAT_MAP_PAGE),
      resolve: (event, args, context) =>
        resolveKeysetConnection(
          { args, page: SEAT_MAP_PAGE, cursor: SEAT_POSITION_CURSOR, keyOf: (ticket: TicketRow) => ticket.position },
          (page) => listEventTickets(context.services.db, event.id, { status: args.status ?? undefined }, page),
        ),
    }),
  }),
});

builder.queryFields((t) => ({
  events: t.connection({
    type: EventRef,
    description: 'All events, soonest first.',
    resolve: (_root, args, context) =>
      resolveKeysetConnection(
        { args, page: DEFAULT_PAGE, cursor: EVENT_CURSOR, keyOf: (event: EventRow) => event.id },
        (page) => listEvents(context.services.db, page),
      ),
  }),
  event: t.field({
    type: EventRef,
    nullable: true,
    description: 'One event by id, or null if there is none.',
    args: { id: t.arg.globalID({ for: EventRef, required: true }) },
    resolve: (_root, args, context) => context.loaders.event.load(args.id.id),
  }),
}));
