import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecutionResult } from 'graphql';
import { describe, expect } from 'vitest';
import { purchase } from './helpers/app.js';
import { nextValue, subscribe } from './helpers/envelop.js';
import { createEventWithTickets } from './helpers/events.js';
import { integrationTest } from './helpers/fixtures.js';
import { AVAILABILITY } from './helpers/live.js';

/**
 * An app with a 10 ms window that cuts off a subscriber two tickets behind, and `watch`, which
 * subscribes in process; what a test watches is closed when it ends.
 */
const it = integrationTest({
  app: { env: { AVAILABILITY_WINDOW_MS: '10', AVAILABILITY_MAX_PENDING_TICKETS: '2' } },
}).extend('watch', ({ api }, { onCleanup }) => {
  const open: Array<AsyncIterator<ExecutionResult>> = [];
  onCleanup(async () => {
    await Promise.all(open.map((iterator) => iterator.return?.()));
  });
  return async (query: string, variables: Record<string, unknown>) => {
    const iterator = await subscribe(api.app.yoga.getEnveloped({}), query, variables);
    open.push(iterator);
    return iterator;
  };
});

describe('one execution per live message, shared by the subscribers in step', () => {
  it('ten seat maps with the same query get the same result object for a sale; other selections and variables get their own', async ({
    api,
    watch,
  }) => {
    const { eventGlobalId: eventId, ticketGlobalIds } = await createEventWithTickets(api, { seats: 3 });
    const same = await Promise.all(Array.from({ length: 10 }, () => watch(AVAILABILITY, { eventId })));
    const countsOnly = await watch('subscription ($eventId: ID!) { ticketAvailability(eventId: $eventId) { sold } }', {
      eventId,
    });
    const optional = `subscription ($eventId: ID!, $tickets: Boolean!) {
      ticketAvailability(eventId: $eventId) { sold changedTickets @include(if: $tickets) { id } } }`;
    const [withTickets, withoutTickets] = [
      await watch(optional, { eventId, tickets: true }),
      await watch(optional, { eventId, tickets: false }),
    ];
    // Ticket.event reads the subscriber's loaders, so this one must run on its own with its own context.
    const withEvent = await watch(
      'subscription ($eventId: ID!) { ticketAvailability(eventId: $eventId) { changedTickets { id event { name } } } }',
      { eventId },
    );
    const all = [...same, countsOnly, withTickets, withoutTickets, withEvent];
    for (const iterator of all) await nextValue(iterator); // each subscriber's own first message
    expect(api.app.services.availability.stats()).toEqual({ events: 1, subscribers: all.length });

    const pending = all.map((iterator) => nextValue(iterator));
    expect((await purchase(api, 'shared-buyer', ticketGlobalIds[0] as string)).__typename).toBe(
      'PurchaseTicketSuccess',
    );
    const results = await Promise.all(pending);

    const [shared] = results;
    const sold = { id: ticketGlobalIds[0], status: 'SOLD', version: expect.any(Number) };
    expect(shared?.data?.ticketAvailability).toMatchObject({ eventId, sold: 1, changedTickets: [sold] });
    for (const result of results.slice(0, 10)) expect(result).toBe(shared);
    expect(new Set(results).size).toBe(5);
    const others = results.slice(10);
    expect(others.map((result) => result.data?.ticketAvailability)).toEqual([
      { sold: 1 },
      { sold: 1, changedTickets: [{ id: ticketGlobalIds[0] }] },
      { sold: 1 },
      { changedTickets: [{ id: ticketGlobalIds[0], event: { name: 'Test Night' } }] },
    ]);
    expect(others.every((result) => result.errors === undefined)).toBe(true);

    await Promise.all(all.map((iterator) => iterator.return?.()));
    expect(api.app.services.availability.stats()).toEqual({ events: 0, subscribers: 0 });
  });

  it('a subscriber that stops reading is still cut off with SLOW_SUBSCRIBER, while the one reading carries on', async ({
    api,
    watch,
  }) => {
    const { eventGlobalId: eventId, ticketGlobalIds } = await createEventWithTickets(api, { seats: 4 });
    const [reader, idle] = [await watch(AVAILABILITY, { eventId }), await watch(AVAILABILITY, { eventId })];
    await nextValue(reader);
    await nextValue(idle);
    for (const [i, ticketId] of ticketGlobalIds.slice(0, 3).entries()) {
      expect((await purchase(api, `slow-${i}`, ticketId)).__typename).toBe('PurchaseTicketSuccess');
      expect((await nextValue(reader)).data?.ticketAvailability).toMatchObject({ sold: i + 1 });
      await sleep(30); // a window apart, so the idle one's backlog grows a ticket at a time
    }
    await expect(idle.next()).rejects.toMatchObject({ extensions: { code: 'SLOW_SUBSCRIBER' } });
    expect(api.app.services.availability.stats()).toEqual({ events: 1, subscribers: 1 });
  });
});
