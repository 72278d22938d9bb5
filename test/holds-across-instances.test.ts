import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEvent, purchase, startTestApp, type TestApp, tokenFor, uniqueRedisPrefix } from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { checkout, HOLD, type HoldMember, hold, RELEASE, SHORT_HOLDS, seat } from './helpers/holds.js';
import { expectSaleInvariants } from './helpers/invariants.js';
import { signalGroup, startServer } from './helpers/process.js';
import { TEST_JWT_SECRET, TEST_REDIS_URL } from './helpers/services.js';

describe('seat holds across instances on Postgres and Redis', () => {
  let database: TestDatabase;
  let instances: [TestApp, TestApp];

  beforeAll(async () => {
    database = await createTestDatabase();
    const redisPrefix = uniqueRedisPrefix();
    const start = () => startTestApp({ kind: 'real', databaseUrl: database.url, redisPrefix, env: SHORT_HOLDS });
    instances = [await start(), await start()];
  });
  afterAll(async () => {
    for (const instance of instances ?? []) await instance.stop();
    await database?.drop();
  });

  it('200 buyers hold the same seat at once across two instances: exactly one hold', async () => {
    const { ticketIds } = await createTestEvent(instances[0].app, { seats: 1 });
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => hold(instances[i % 2] as TestApp, `racer-${i}`, [ticketIds[0] as string])),
    );
    const wins = results.filter((r) => r.__typename === 'HoldSeatsSuccess');
    expect(wins).toHaveLength(1);
    for (const loss of results.filter((r) => r.__typename !== 'HoldSeatsSuccess')) {
      expect(loss.__typename).toBe('TicketsUnavailable');
      expect(['LOCKED', 'HELD']).toContain(loss.tickets?.[0]?.reason);
    }
    const [count] = await database.sql<{ n: number }[]>`select count(*)::int as n from holds where status = 'ACTIVE'`;
    expect(count?.n).toBe(1);
    await expectSaleInvariants(instances[0].app.services.db);
  });

  it('two concurrent checkouts of one hold make one order', async () => {
    const { ticketIds } = await createTestEvent(instances[0].app, { seats: 2 });
    const held = await hold(instances[0], 'double-click', [ticketIds[0] as string, ticketIds[1] as string]);
    const [a, b] = await Promise.all([
      checkout(instances[0], 'double-click', held.hold?.id as string),
      checkout(instances[1], 'double-click', held.hold?.id as string),
    ]);
    expect(a.__typename).toBe('CheckoutSuccess');
    expect(b.__typename).toBe('CheckoutSuccess');
    expect(a.order?.id).toBe(b.order?.id);
    const [orders] = await database.sql<
      { n: number }[]
    >`select count(*)::int as n from orders where customer_id = 'double-click'`;
    expect(orders?.n).toBe(1);
    await expectSaleInvariants(instances[0].app.services.db);
  });

  it('a release racing a checkout of the same hold: one wins, and the loser reports what happened', async () => {
    const { ticketIds } = await createTestEvent(instances[0].app, { seats: 20 });
    const token = await tokenFor('racer');
    for (const ticketId of ticketIds) {
      const held = await hold(instances[0], 'racer', [ticketId]);
      const holdId = held.hold?.id as string;
      const [paid, released] = await Promise.all([
        checkout(instances[0], 'racer', holdId),
        instances[1].gql<{ releaseHold: { hold: { status: string } } }>(RELEASE, { holdId }, { token }),
      ]);
      const status = released.data?.releaseHold.hold.status;
      if (paid.__typename === 'CheckoutSuccess') expect(status).toBe('CHECKED_OUT');
      else expect([paid.__typename, status]).toEqual(['HoldExpired', 'RELEASED']);
    }
    await expectSaleInvariants(instances[0].app.services.db);
  });

  it('when Redis loses every key of ours while seats are held, nobody else can take them: Postgres refuses', async () => {
    const { ticketIds } = await createTestEvent(instances[0].app, { seats: 2 });
    const held = await hold(instances[0], 'keeper', [ticketIds[0] as string, ticketIds[1] as string]);
    expect(held.__typename).toBe('HoldSeatsSuccess');
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const keys = await redis.keys(`${instances[0].redisPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      expect(await redis.keys(`${instances[0].redisPrefix}{ev:*}:seat:*`)).toEqual([]);
    } finally {
      redis.disconnect();
    }
    const rival = await hold(instances[1], 'taker', [ticketIds[0] as string]);
    expect(rival).toMatchObject({ __typename: 'TicketsUnavailable', tickets: [{ reason: 'HELD' }] });
    const buyer = await purchase(instances[1], 'taker', ticketIds[1] as string);
    expect(buyer).toMatchObject({ __typename: 'TicketUnavailable', reason: 'HELD' });
    const done = await checkout(instances[1], 'keeper', held.hold?.id as string);
    expect(done.__typename).toBe('CheckoutSuccess');
    await expectSaleInvariants(instances[0].app.services.db);
  });

  it("expires a killed instance's holds on time, from the instance still up", async () => {
    const { ticketIds } = await createTestEvent(instances[0].app, { seats: 1 });
    const doomed = startServer('node', ['dist/main.js'], {
      PORT: '0',
      HOST: '127.0.0.1',
      JWT_SECRET: TEST_JWT_SECRET,
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: instances[0].redisPrefix,
      SEED_DEMO: 'false',
      ...SHORT_HOLDS,
    });
    const { url } = await doomed.listening();
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await tokenFor('orphan')}` },
      body: JSON.stringify({ query: HOLD, variables: { ticketIds: [ticketIds[0]] } }),
    });
    const held = ((await response.json()) as { data: { holdSeats: HoldMember } }).data.holdSeats;
    expect(held.__typename).toBe('HoldSeatsSuccess');
    signalGroup(doomed, 'SIGKILL');
    await doomed.exited(5000);

    const expiresAt = new Date(held.hold?.expiresAt as string).getTime();
    let freedAt = 0;
    while (Date.now() < expiresAt + 3000) {
      if ((await seat(instances[1], ticketIds[0] as string)).status === 'AVAILABLE') {
        freedAt = Date.now();
        break;
      }
      await sleep(20);
    }
    expect(freedAt, 'the seat came back').toBeGreaterThan(0);
    console.log(`killed instance's hold: seat AVAILABLE ${freedAt - expiresAt} ms after expiresAt`);
    expect(freedAt - expiresAt).toBeLessThanOrEqual(1000);
    await expectSaleInvariants(instances[1].app.services.db);
  });
});
