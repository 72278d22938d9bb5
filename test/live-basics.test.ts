import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalId } from '../src/graphql/global-id.js';
import { type BackendKind, createTestEvent, purchase, startTestApp, type TestApp, tokenFor } from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { type LiveSubscription, subscribeSse, subscribeWs, wsClient } from './helpers/live.js';

// The live stream's contract, on both backends and both transports.
describe.each<BackendKind>(['real', 'embedded'])('ticketAvailability on the %s backend', (kind) => {
  let database: TestDatabase | undefined;
  let api: TestApp;
  let url: string;

  beforeAll(async () => {
    if (kind === 'real') database = await createTestDatabase();
    api = await startTestApp({ kind, databaseUrl: database?.url, env: { AVAILABILITY_WINDOW_MS: '20' } });
    url = await api.listen();
  });
  afterAll(async () => {
    await api?.stop();
    await database?.drop();
  });

  const transports: Array<[string, (eventId: string, token?: string) => LiveSubscription]> = [
    ['graphql-ws', (eventId, token) => subscribeWs(wsClient(url, token), eventId)],
    ['server-sent events', (eventId, token) => subscribeSse(url, eventId, token)],
  ];

  it.each(transports)('over %s: counts at once on subscribe, then each sale live', async (_name, subscribe) => {
    const { eventId, ticketIds } = await createTestEvent(api.app, { seats: 5 });
    const live = subscribe(eventId);
    try {
      await live.until((messages) => messages.length >= 1);
      expect(live.messages[0]).toEqual({ eventId, available: 5, held: 0, sold: 0, total: 5, changedTickets: [] });

      expect((await purchase(api, 'watcher-buyer', ticketIds[2] as string)).__typename).toBe('PurchaseTicketSuccess');
      await live.until((messages) => messages.some((m) => m.sold === 1));
      const update = live.messages.find((m) => m.sold === 1);
      expect(update).toMatchObject({ available: 4, sold: 1, total: 5 });
      expect(update?.changedTickets).toEqual([
        expect.objectContaining({ id: ticketIds[2], status: 'SOLD', version: expect.any(Number) }),
      ]);
      expect(live.errors).toEqual([]);
    } finally {
      await live.close();
    }
  });

  it.each(transports)(
    'over %s: a bad token is refused as on HTTP, and an unknown event is an error',
    async (_name, subscribe) => {
      const { eventId } = await createTestEvent(api.app, { seats: 1 });
      const forged = `${await tokenFor('someone')}x`;
      const refused = subscribe(eventId, forged);
      await refused.until(() => refused.errors.length > 0).catch(() => {});
      expect(JSON.stringify(refused.errors)).toMatch(/UNAUTHENTICATED|token/i);
      expect(refused.messages).toEqual([]);
      await refused.close();

      const unknown = subscribe(encodeGlobalId('Event', '00000000-0000-4000-8000-000000000001'));
      await unknown.until(() => unknown.errors.length > 0).catch(() => {});
      expect(JSON.stringify(unknown.errors)).toMatch(/No Event/);
      await unknown.close();
    },
  );
});
