import { GraphQLError } from 'graphql';
import type { AvailabilityMessage } from '../../events/subscriber-stream.js';
import { builder } from '../builder.js';
import { encodeGlobalId } from '../global-id.js';
import { EventRef, TicketRef } from './refs.js';

const TicketAvailabilityRef = builder.objectRef<AvailabilityMessage>('TicketAvailability').implement({
  description:
    'One message of the live seat map: current counts, and every ticket whose status changed since the previous message. The first message has the counts and no tickets.',
  fields: (t) => ({
    eventId: t.id({ resolve: (message) => encodeGlobalId('Event', message.eventId) }),
    available: t.int({ resolve: (message) => message.counts.available }),
    held: t.int({ resolve: (message) => message.counts.held }),
    sold: t.int({ resolve: (message) => message.counts.sold }),
    total: t.int({ resolve: (message) => message.counts.total }),
    changedTickets: t.field({
      type: [TicketRef],
      description: 'Each with its current status and version; apply one only if its version is above the one you hold.',
      resolve: (message) => message.changedTickets,
    }),
  }),
});

/**
 * What a `ticketAvailability` subscription may select and still be executed once per message for
 * every subscriber on the instance (see useSharedSubscriptionExecution). Each of these resolvers
 * reads only the message (or a ticket of it), never the context: the seat map is the same for every
 * viewer. A selection that reaches any other field (Ticket.event loads through the viewer's loaders)
 * is executed per subscriber. Add a field here only if that stays true of it.
 */
export const VIEWER_INDEPENDENT_AVAILABILITY_FIELDS = {
  // Only its per-message `resolve`; its `subscribe` always runs with the subscriber's own context.
  Subscription: ['ticketAvailability'],
  TicketAvailability: ['eventId', 'available', 'held', 'sold', 'total', 'changedTickets'],
  Ticket: ['id', 'section', 'row', 'seat', 'priceCents', 'status', 'version', 'statusChangedAt'],
} as const;

builder.subscriptionType({ description: 'Live updates, over graphql-ws or server-sent events at /graphql.' });

builder.subscriptionField('ticketAvailability', (t) =>
  t.field({
    type: TicketAvailabilityRef,
    description: "An event's availability, live. Open to anyone. Changes within a short window arrive as one message.",
    args: { eventId: t.arg.globalID({ for: EventRef, required: true }) },
    subscribe: async (_root, args, context) => {
      const event = await context.loaders.event.load(args.eventId.id);
      if (!event) throw new GraphQLError('No Event has this id.', { extensions: { code: 'NOT_FOUND' } });
      return context.services.availability.subscribe(event.id);
    },
    resolve: (message) => message,
  }),
);
