import { closeSale, openSale } from '../../catalog/sale-window.js';
import { InvalidInputError, NotFoundError } from '../../errors.js';
import { builder } from '../builder.js';
import { EventRef } from './refs.js';
import { requireOrganizer } from './viewer.js';

const SectionInput = builder.inputType('SectionInput', {
  description:
    'A block of seats at one price: rows of numbered seats, or (generalAdmission) a standing area of `capacity` units.',
  fields: (t) => ({
    name: t.string({ required: true, description: 'Unique within the event, e.g. "Floor" or "Balcony".' }),
    rows: t.int({
      description: 'How many rows; labelled 1…rows unless rowLabels is given. Required unless generalAdmission.',
    }),
    rowLabels: t.stringList({ description: 'Labels for the rows, front to back (as many as `rows`).' }),
    seatsPerRow: t.int({ description: 'Required unless generalAdmission.' }),
    generalAdmission: t.boolean({
      defaultValue: false,
      description:
        'A standing area: `capacity` units with no seat of their own, bought with holdBestAvailable (any N free units). Each unit is still a ticket, so orders, holds and counts work as for seats.',
    }),
    capacity: t.int({
      description: 'How many units a generalAdmission section sells. Required with generalAdmission.',
    }),
    priceCents: t.int({ required: true, description: 'Price of each seat, in the smallest currency unit.' }),
  }),
});

const CreateEventInput = builder.inputType('CreateEventInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    venue: t.string({ required: true }),
    startsAt: t.field({ type: 'DateTime', required: true }),
    saleOpensAt: t.field({ type: 'DateTime', description: 'When buying starts; omit to open at once.' }),
    saleClosesAt: t.field({ type: 'DateTime', description: 'When buying stops; omit for no set end.' }),
    perCustomerLimit: t.int({ description: 'Most tickets one customer may hold for this event; omit for none.' }),
    holdMinutes: t.int({
      description:
        "How long a hold keeps its seats while the buyer pays, 1-60 minutes; omit for the server's default (HOLD_TTL_MS, 10 minutes unless set).",
    }),
    sections: t.field({ type: [SectionInput], required: true }),
  }),
});

const saleResult = (name: string) => ({
  types: [NotFoundError],
  union: { name: `${name}Result` },
  result: { name: `${name}Success` },
  dataField: { name: 'event' },
});

builder.mutationFields((t) => ({
  createEvent: t.field({
    type: EventRef,
    description: 'Organizers only. Creates an event and all its seats; a bad layout writes nothing.',
    args: { input: t.arg({ type: CreateEventInput, required: true }) },
    errors: {
      types: [InvalidInputError],
      union: { name: 'CreateEventResult' },
      result: { name: 'CreateEventSuccess' },
      dataField: { name: 'event' },
    },
    resolve: async (_root, { input }, context) => {
      requireOrganizer(context);
      const { eventId } = await context.services.createEvent({
        ...input,
        sections: input.sections.map((section) =>
          section.generalAdmission
            ? {
                name: section.name,
                priceCents: section.priceCents,
                generalAdmission: true,
                capacity: section.capacity ?? 0,
              }
            : {
                name: section.name,
                priceCents: section.priceCents,
                rows: section.rowLabels ?? section.rows ?? 0,
                seatsPerRow: section.seatsPerRow ?? 0,
              },
        ),
      });
      const event = await context.loaders.event.load(eventId);
      if (!event) throw new Error(`createEvent: event ${eventId} vanished`);
      return event;
    },
  }),
  openSale: t.field({
    type: EventRef,
    description: 'Organizers only. Opens the sale now.',
    args: { eventId: t.arg.globalID({ for: EventRef, required: true }) },
    errors: saleResult('OpenSale'),
    resolve: (_root, { eventId }, context) => {
      requireOrganizer(context);
      return openSale(context.services.db, eventId.id, context.services.announceSaleChange);
    },
  }),
  closeSale: t.field({
    type: EventRef,
    description: 'Organizers only. Closes the sale now.',
    args: { eventId: t.arg.globalID({ for: EventRef, required: true }) },
    errors: saleResult('CloseSale'),
    resolve: (_root, { eventId }, context) => {
      requireOrganizer(context);
      return closeSale(context.services.db, eventId.id, context.services.announceSaleChange);
    },
  }),
}));
