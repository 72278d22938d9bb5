import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexKey } from '../src/infra/redis-keys.js';
import { startTestApp, type TestApp, uniqueRedisPrefix } from './helpers/app.js';
import { adjacent, type BestMember, holdBest } from './helpers/best-available.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { createEventWithTickets } from './helpers/events.js';
import { test } from './helpers/fixtures.js';
import { expectSaleInvariants } from './helpers/invariants.js';
import { type OwnRedis, startOwnRedis } from './helpers/redis-server.js';

/** Runs `count` buyers, `parallel` at a time, alternating instances; returns every answer. */
async function rush(
  instances: readonly TestApp[],
  count: number,
  parallel: number,
  buy: (api: TestApp, i: number) => Promise<BestMember>,
  onAnswer?: (done: number) => Promise<void>,
): Promise<BestMember[]> {
  const answers: BestMember[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      answers.push(await buy(instances[i % instances.length] as TestApp, i));
      await onAnswer?.(answers.length);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return answers;
}

const heldSeats = async (database: TestDatabase, eventId: string) => {
  const [row] = await database.sql<{ n: number }[]>`
    select count(*)::int as n from tickets where event_id = ${eventId} and status = 'HELD'`;
  return row?.n ?? 0;
};

// Real Postgres and Redis only: PGlite runs one query at a time, so a race on it proves nothing.
describe('best available under a rush (two instances, real Postgres and Redis)', () => {
  test('1,000 buyers of 2 seats on 500 seats: every seat held once, every hold adjacent', async ({
    pair,
    database,
  }) => {
    const rows = Array.from({ length: 10 }, (_, i) => `R${i + 1}`);
    const { eventId, eventGlobalId } = await createEventWithTickets(pair[0], {
      seats: 0,
      sections: [{ name: 'Hall', rows, seatsPerRow: 50, priceCents: 3000 }],
    });
    const answers = await rush(pair, 1000, 100, (api, i) =>
      holdBest(api, `pair-buyer-${i}`, { eventId: eventGlobalId, quantity: 2 }),
    );
    const wins = answers.filter((a) => a.__typename === 'HoldBestAvailableSuccess');
    const others = answers.filter((a) => a.__typename !== 'HoldBestAvailableSuccess');
    expect(new Set(others.map((a) => a.__typename))).toEqual(new Set(['NotEnoughSeats']));
    // Rows of 50 fill in pairs from the middle out, so no seat is left alone: all 500 are held.
    expect(wins).toHaveLength(250);
    expect(wins.every(adjacent)).toBe(true);
    const seats = wins.flatMap((w) => w.hold?.tickets.map((t) => t.id) ?? []);
    expect(new Set(seats).size).toBe(500);
    expect(await heldSeats(database, eventId)).toBe(500);
    await expectSaleInvariants(pair[0].app.services.db);
  });

  test('a general-admission section sells exactly its capacity under 3x demand', async ({ pair, database }) => {
    const { eventId, eventGlobalId } = await createEventWithTickets(pair[0], {
      seats: 0,
      sections: [
        { name: 'Seats', rows: ['A'], seatsPerRow: 10, priceCents: 5000 },
        { name: 'Lawn', generalAdmission: true, capacity: 200, priceCents: 2500 },
      ],
    });
    const answers = await rush(pair, 600, 60, (api, i) =>
      holdBest(api, `lawn-${i}`, { eventId: eventGlobalId, quantity: 1, sections: ['Lawn'] }),
    );
    const wins = answers.filter((a) => a.__typename === 'HoldBestAvailableSuccess');
    expect(wins).toHaveLength(200);
    expect(answers.filter((a) => a.__typename === 'NotEnoughSeats')).toHaveLength(400);
    const [lawn] = await database.sql<{ held: number; available: number }[]>`
      select count(*) filter (where status = 'HELD')::int as held,
        count(*) filter (where status = 'AVAILABLE')::int as available
      from tickets where event_id = ${eventId} and section = 'Lawn'`;
    expect(lawn).toEqual({ held: 200, available: 0 });
    expect(await heldSeats(database, eventId)).toBe(200); // no seat of "Seats" was touched
    await expectSaleInvariants(pair[0].app.services.db);
  });
});

describe('best available when Redis loses every key mid-rush (a redis-server of this test)', () => {
  let database: TestDatabase;
  let redis: OwnRedis;
  let instances: TestApp[];
  let client: Redis;

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await startOwnRedis();
    const redisPrefix = uniqueRedisPrefix();
    const start = () =>
      startTestApp({ kind: 'real', databaseUrl: database.url, redisPrefix, env: { REDIS_URL: redis.url } });
    instances = [await start(), await start()];
    client = new Redis(redis.url);
  });
  afterAll(async () => {
    client?.disconnect();
    for (const instance of instances ?? []) await instance.stop();
    await redis?.stop();
    await database?.drop();
  });

  it('FLUSHALL mid-rush: nothing oversold, the index is rebuilt and sales resume', async () => {
    const first = instances[0] as TestApp;
    const { eventId, eventGlobalId } = await createEventWithTickets(first, {
      seats: 0,
      sections: [{ name: 'Hall', rows: ['A', 'B', 'C', 'D', 'E', 'F'], seatsPerRow: 50, priceCents: 3000 }],
    });
    let flushedAt = -1;
    const answers = await rush(
      instances,
      500,
      40,
      (api, i) => holdBest(api, `flush-${i}`, { eventId: eventGlobalId, quantity: 1 }),
      async (done) => {
        if (done === 120 && flushedAt < 0) {
          flushedAt = done;
          await client.flushall();
        }
      },
    );
    expect(flushedAt).toBe(120);
    const wins = answers.filter((a) => a.__typename === 'HoldBestAvailableSuccess');
    const seats = wins.flatMap((w) => w.hold?.tickets.map((t) => t.id) ?? []);
    expect(new Set(seats).size).toBe(seats.length); // no seat twice
    // Every seat was sold once, after the flush as before it: demand exceeded 300.
    expect(seats).toHaveLength(300);
    expect(await heldSeats(database, eventId)).toBe(300);
    // The index came back (its sentinel) and still knows the hall is full.
    expect(await client.exists(indexKey(first.redisPrefix, eventId, 'meta'))).toBe(1);
    expect(await holdBest(first, 'late', { eventId: eventGlobalId, quantity: 1 })).toMatchObject({
      __typename: 'NotEnoughSeats',
      available: 0,
    });
    await expectSaleInvariants(first.app.services.db);
    await sleep(0);
  });
});
