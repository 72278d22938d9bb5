import { describe, expect } from 'vitest';
import { encodeGlobalId } from '../src/graphql/global-id.js';
import { type BackendKind, purchase, tokenFor } from './helpers/app.js';
import { createEventWithTickets } from './helpers/events.js';
import { integrationTest } from './helpers/fixtures.js';
import { type LiveSubscription, subscribeSse, subscribeWs, wsClient } from './helpers/live.js';

/** An app on `kind` with a 20 ms coalescing window, and the URL it listens on. */
const onBackend = (kind: BackendKind) =>
  integrationTest({ kind, app: { env: { AVAILABILITY_WINDOW_MS: '20' } } }).extend('url', ({ api }) => api.listen());
const tests = { real: onBackend('real'), embedded: onBackend('embedded') };

type Subscribe = (url: string, eventId: string, token?: string) => LiveSubscription;
const transports: Array<[string, Subscribe]> = [
  ['graphql-ws', (url, eventId, token) => subscribeWs(wsClient(url, token), eventId)],
  ['server-sent events', (url, eventId, token) => subscribeSse(url, eventId, token)],
];

// The live stream's contract, on both backends and both transports.
describe.each<BackendKind>(['real', 'embedded'])('ticketAvailability on the %s backend', (kind) => {
  const it = tests[kind];

  it.for(transports)(
    'over %s: counts at once on subscribe, then each sale live',
    async ([, subscribe], { api, url }) => {
      const { eventGlobalId, ticketGlobalIds } = await createEventWithTickets(api, { seats: 5 });
      const live = subscribe(url, eventGlobalId);
      try {
        await live.until((messages) => messages.length >= 1);
        expect(live.messages[0]).toEqual({
          eventId: eventGlobalId,
          available: 5,
          held: 0,
          sold: 0,
          total: 5,
          changedTickets: [],
        });

        expect((await purchase(api, 'watcher-buyer', ticketGlobalIds[2] as string)).__typename).toBe(
          'PurchaseTicketSuccess',
        );
        await live.until((messages) => messages.some((m) => m.sold === 1));
        const update = live.messages.find((m) => m.sold === 1);
        expect(update).toMatchObject({ available: 4, sold: 1, total: 5 });
        expect(update?.changedTickets).toEqual([
          expect.objectContaining({ id: ticketGlobalIds[2], status: 'SOLD', version: expect.any(Number) }),
        ]);
        expect(live.errors).toEqual([]);
      } finally {
        await live.close();
      }
    },
  );

  it.for(transports)(
    'over %s: a bad token is refused as on HTTP, and an unknown event is an error',
    async ([, subscribe], { api, url }) => {
      const { eventGlobalId } = await createEventWithTickets(api, { seats: 1 });
      const forged = `${await tokenFor('someone')}x`;
      const refused = subscribe(url, eventGlobalId, forged);
      await refused.until(() => refused.errors.length > 0).catch(() => {});
      expect(JSON.stringify(refused.errors)).toMatch(/UNAUTHENTICATED|token/i);
      expect(refused.messages).toEqual([]);
      await refused.close();

      const unknown = subscribe(url, encodeGlobalId('Event', '00000000-0000-4000-8000-000000000001'));
      await unknown.until(() => unknown.errors.length > 0).catch(() => {});
      expect(JSON.stringify(unknown.errors)).toMatch(/No Event/);
      await unknown.close();
    },
  );
});
