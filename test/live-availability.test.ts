import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import { ticketGlobalId } from '../src/graphql/global-id.js';
import { purchase } from './helpers/app.js';
import type { TestDatabase } from './helpers/database.js';
import { createEventWithTickets } from './helpers/events.js';
import { test } from './helpers/fixtures.js';
import { expectSaleInvariants } from './helpers/invariants.js';
import { type LiveSubscription, latestStatuses, subscribeSse, subscribeWs, wsClient } from './helpers/live.js';
import { loadSeatMap, SeatMap } from './helpers/seat-map.js';

/** The URLs the pair's two instances listen on, for WebSocket and SSE clients. */
const it = test.extend('urls', async ({ pair: [a, b] }) => [await a.listen(), await b.listen()] as const);

/** The GraphQL ids of an event's sold tickets, straight from the tickets table. */
const soldInSql = async (database: TestDatabase, eventId: string) => {
  const rows = await database.sql<{ id: string }[]>`
    select t.id from tickets t join events e on e.id = t.event_id
    where t.status = 'SOLD' and e.id = ${eventId}`;
  return new Set(rows.map((r) => ticketGlobalId({ id: r.id, eventId })));
};

// Real Postgres and Redis: two instances, one Redis, one database, as behind a load balancer.
describe('live availability across instances', () => {
  it('a seat map on instance B sees a sale made through instance A, with correct counts', async ({
    pair: [a],
    urls: [, urlB],
  }) => {
    const { eventGlobalId, ticketGlobalIds } = await createEventWithTickets(a, { seats: 3 });
    const live = subscribeWs(wsClient(urlB), eventGlobalId);
    try {
      await live.until((m) => m.length >= 1);
      await purchase(a, 'via-a', ticketGlobalIds[1] as string);
      await live.until((m) => m.some((x) => x.sold === 1));
      const update = live.messages.find((x) => x.sold === 1);
      expect(update).toMatchObject({ available: 2, held: 0, sold: 1, total: 3 });
      expect(update?.changedTickets.map((t) => [t.id, t.status])).toEqual([[ticketGlobalIds[1], 'SOLD']]);
    } finally {
      await live.close();
    }
  });

  it('turns a burst of 200 sales into far fewer messages per subscriber, missing no ticket, on graphql-ws and SSE alike', async ({
    pair: [a, b],
    urls: [urlA, urlB],
    database,
  }) => {
    const { eventId, eventGlobalId, ticketGlobalIds } = await createEventWithTickets(a, { seats: 250 });
    const watchers: LiveSubscription[] = [
      subscribeWs(wsClient(urlA), eventGlobalId),
      subscribeWs(wsClient(urlB), eventGlobalId),
      subscribeSse(urlA, eventGlobalId),
      subscribeSse(urlB, eventGlobalId),
    ];
    try {
      for (const w of watchers) await w.until((m) => m.length >= 1);
      const results = await Promise.all(
        ticketGlobalIds.slice(0, 200).map((id, i) => purchase(i % 2 ? a : b, `burst-${i}`, id)),
      );
      expect(results.every((r) => r.__typename === 'PurchaseTicketSuccess')).toBe(true);
      const sold = await soldInSql(database, eventId);
      expect(sold.size).toBe(200);
      for (const w of watchers) {
        // Counts come from Postgres and can run a message ahead of the changed tickets' notices.
        await w.until((m) => m.at(-1)?.sold === 200 && latestStatuses(m).size === 200);
        const updates = w.messages.slice(1);
        expect(updates.length).toBeLessThan(50);
        const seen = latestStatuses(updates);
        expect(new Set([...seen.keys()])).toEqual(sold);
        expect([...seen.values()].every((t) => t.status === 'SOLD')).toBe(true);
        expect(w.messages.at(-1)).toMatchObject({ available: 50, held: 0, sold: 200, total: 250 });
        expect(w.errors).toEqual([]);
      }
      await expectSaleInvariants(a.app.services.db);
    } finally {
      for (const w of watchers) await w.close();
    }
  });

  it.for([
    ['loads the seat map while sales run, then subscribes', 'load-first'],
    ['subscribes, then loads the seat map while sales run', 'subscribe-first'],
  ] as const)(
    'a client that %s ends with a seat map equal to the database',
    async ([_label, order], { pair: [a, b], urls: [, urlB], database }) => {
      const { eventId, eventGlobalId, ticketGlobalIds } = await createEventWithTickets(a, { seats: 120 });
      let selling = true;
      const sales = (async () => {
        for (let i = 0; selling && i < ticketGlobalIds.length; i += 4) {
          await Promise.all(
            ticketGlobalIds.slice(i, i + 4).map((id, j) => purchase(j % 2 ? a : b, `gap-${i + j}`, id)),
          );
        }
      })();
      await sleep(30);
      const seatMap = new SeatMap();
      if (order === 'load-first') seatMap.load(await loadSeatMap(a, eventGlobalId));
      const live = subscribeWs(wsClient(urlB), eventGlobalId);
      try {
        await live.until((m) => m.length >= 1);
        // The recipe: once the first message is in, (re)load; then apply messages by version.
        seatMap.load(await loadSeatMap(b, eventGlobalId));
        await sleep(60);
        selling = false;
        await sales;
        const sold = await soldInSql(database, eventId);
        await live.until(
          (m) =>
            m.at(-1)?.sold === sold.size &&
            [...sold].every((id) => latestStatuses(m).has(id) || seatMap.has(id, 'SOLD')),
        );
        for (const message of live.messages) seatMap.apply(message.changedTickets);
        const truth = await loadSeatMap(a, eventGlobalId);
        expect(seatMap.statuses()).toEqual(new Map([...truth].map(([id, t]) => [id, t.status])));
        expect(sold.size).toBeGreaterThan(0);
      } finally {
        await live.close();
      }
    },
  );

  it('disconnecting 100 subscribers leaves no Redis channel subscription and no listener behind', async ({
    pair: [a, b],
    urls: [urlA, urlB],
    redis,
  }) => {
    const events = [await createEventWithTickets(a, { seats: 2 }), await createEventWithTickets(a, { seats: 2 })];
    const clients = Array.from({ length: 100 }, (_, i) => wsClient(i % 2 ? urlA : urlB));
    // Instance by i % 2, event by (i >> 1) % 2: each instance watches both events.
    const watchers = clients.map((client, i) => subscribeWs(client, events[(i >> 1) % 2]?.eventGlobalId as string));
    for (const w of watchers) await w.until((m) => m.length >= 1);
    // Event channels are `<prefix>{ev:<eventId>}:availability` (availabilityChannel).
    const channels = () => redis.pubsub('CHANNELS', `${a.redisPrefix}{ev:*}:availability`) as Promise<string[]>;
    expect((await channels()).sort()).toHaveLength(2);
    expect(a.app.services.availability.stats()).toEqual({ events: 2, subscribers: 50 });
    expect(b.app.services.availability.stats()).toEqual({ events: 2, subscribers: 50 });

    await Promise.all(clients.map((client) => client.dispose()));
    const deadline = Date.now() + 5000;
    while ((await channels()).length > 0 && Date.now() < deadline) await sleep(20);
    expect(await channels()).toEqual([]);
    expect(a.app.services.availability.stats()).toEqual({ events: 0, subscribers: 0 });
    expect(b.app.services.availability.stats()).toEqual({ events: 0, subscribers: 0 });
  });
});
