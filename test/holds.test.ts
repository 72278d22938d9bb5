import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeGlobalId } from '../src/graphql/global-id.js';
import {
  type BackendKind,
  createTestEvent,
  purchase,
  startTestApp,
  type TestApp,
  tokenFor,
  uniqueRedisPrefix,
} from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { expectSaleInvariants } from './helpers/invariants.js';
import { subscribeWs, wsClient } from './helpers/live.js';
import { signalGroup, startServer } from './helpers/process.js';
import { createRuledEvent } from './helpers/sales.js';
import { TEST_JWT_SECRET, TEST_REDIS_URL } from './helpers/services.js';
import { rows } from './helpers/sql.js';

/** Short holds and a quick sweeper, so expiry happens within a test. */
const SHORT_HOLDS = { HOLD_TTL_MS: '1500', HOLD_SWEEP_MS: '50' };

const HOLD = /* GraphQL */ `
  mutation Hold($ticketIds: [ID!]!, $key: String) {
    holdSeats(input: { ticketIds: $ticketIds, idempotencyKey: $key }) {
      __typename
      ... on HoldSeatsSuccess { hold { id status totalCents expiresAt expiresInSeconds tickets { id status } } }
      ... on TicketsUnavailable { tickets { ticketId reason } }
      ... on PurchaseLimitReached { limit held }
      ... on Error { message }
    }
  }
`;

const CHECKOUT = /* GraphQL */ `
  mutation Checkout($holdId: ID!, $key: String) {
    checkout(input: { holdId: $holdId, idempotencyKey: $key }) {
      __typename
      ... on CheckoutSuccess { order { id totalCents tickets { id status } } }
      ... on HoldExpired { holdId expiredAt }
      ... on Error { message }
    }
  }
`;

const RELEASE = /* GraphQL */ `
  mutation Release($holdId: ID!) {
    releaseHold(holdId: $holdId) {
      __typename
      ... on ReleaseHoldSuccess { hold { id status tickets { id status } } }
      ... on Error { message }
    }
  }
`;

interface HoldMember {
  __typename: string;
  hold?: {
    id: string;
    status: string;
    totalCents: number;
    expiresAt: string;
    expiresInSeconds: number;
    tickets: Array<{ id: string; status: string }>;
  };
  tickets?: Array<{ ticketId: string; reason: string }>;
  limit?: number;
  held?: number;
  message?: string;
}

interface CheckoutMember {
  __typename: string;
  order?: { id: string; totalCents: number; tickets: Array<{ id: string; status: string }> };
  holdId?: string;
  message?: string;
}

async function hold(api: TestApp, sub: string, ticketIds: string[], key?: string): Promise<HoldMember> {
  const response = await api.gql<{ holdSeats: HoldMember }>(HOLD, { ticketIds, key }, { token: await tokenFor(sub) });
  if (!response.data) throw new Error(`holdSeats failed: ${JSON.stringify(response.errors)}`);
  return response.data.holdSeats;
}

async function checkout(api: TestApp, sub: string, holdId: string, key?: string): Promise<CheckoutMember> {
  const response = await api.gql<{ checkout: CheckoutMember }>(
    CHECKOUT,
    { holdId, key },
    { token: await tokenFor(sub) },
  );
  if (!response.data) throw new Error(`checkout failed: ${JSON.stringify(response.errors)}`);
  return response.data.checkout;
}

/** A ticket's status and hold in the database. */
async function seat(api: TestApp, globalTicketId: string) {
  const ticketId = decodeGlobalId(globalTicketId).id.split('/')[1] as string;
  const [row] = await rows<{ status: string; hold_id: string | null }>(
    api.app.services.db,
    sql`select status, hold_id from tickets where id = ${ticketId}`,
  );
  return row as { status: string; hold_id: string | null };
}

describe.each<BackendKind>(['real', 'embedded'])('seat holds on the %s backend', (kind) => {
  let database: TestDatabase | undefined;
  let api: TestApp;

  beforeAll(async () => {
    if (kind === 'real') database = await createTestDatabase();
    api = await startTestApp({ kind, databaseUrl: database?.url, env: SHORT_HOLDS });
  });
  afterAll(async () => {
    await api?.stop();
    await database?.drop();
  });

  it('holds seats with a countdown, refuses them to others as HELD with no query, and checks out into an order', async () => {
    const { ticketIds } = await createTestEvent(api.app, { seats: 3, priceCents: 2500 });
    const held = await hold(api, 'holder', [ticketIds[0] as string, ticketIds[1] as string]);
    expect(held.__typename).toBe('HoldSeatsSuccess');
    expect(held.hold).toMatchObject({ status: 'ACTIVE', totalCents: 5000 });
    expect(held.hold?.tickets.map((t) => t.status)).toEqual(['HELD', 'HELD']);
    expect(held.hold?.expiresInSeconds).toBeGreaterThanOrEqual(1);
    expect(held.hold?.expiresInSeconds).toBeLessThanOrEqual(2);

    const before = api.queries();
    const other = await hold(api, 'rival', [ticketIds[1] as string]);
    expect(other).toMatchObject({ __typename: 'TicketsUnavailable', tickets: [{ reason: 'HELD' }] });
    const bought = await purchase(api, 'rival', ticketIds[0] as string);
    expect(bought).toMatchObject({ __typename: 'TicketUnavailable', reason: 'HELD' });
    expect(api.queries()).toBe(before);

    const done = await checkout(api, 'holder', held.hold?.id as string, 'pay-1');
    expect(done.__typename).toBe('CheckoutSuccess');
    expect(done.order?.totalCents).toBe(5000);
    expect(done.order?.tickets.map((t) => t.status)).toEqual(['SOLD', 'SOLD']);
    const again = await checkout(api, 'holder', held.hold?.id as string, 'pay-1');
    expect(again).toMatchObject({ __typename: 'CheckoutSuccess', order: { id: done.order?.id } });
    // Checkout turned the hold marks into sold marks: a late buyer is refused SOLD with no query.
    const quiet = api.queries();
    expect(await purchase(api, 'late', ticketIds[0] as string)).toMatchObject({ reason: 'SOLD' });
    expect(api.queries()).toBe(quiet);
    await expectSaleInvariants(api.app.services.db);
  });

  it('shows a hold to its owner only, through node and me.holds', async () => {
    const { ticketIds } = await createTestEvent(api.app, { seats: 1 });
    const held = await hold(api, 'owner', [ticketIds[0] as string]);
    const holdId = held.hold?.id as string;
    const query = `query($id: ID!) { node(id: $id) { ... on Hold { id status } } me { holds(first: 5, status: ACTIVE) { edges { node { id } } } } }`;
    const mine = await api.gql<{
      node: { id: string } | null;
      me: { holds: { edges: Array<{ node: { id: string } }> } };
    }>(query, { id: holdId }, { token: await tokenFor('owner') });
    expect(mine.data?.node?.id).toBe(holdId);
    expect(mine.data?.me.holds.edges.map((e) => e.node.id)).toContain(holdId);
    const theirs = await api.gql<{ node: unknown; me: { holds: { edges: unknown[] } } }>(
      query,
      { id: holdId },
      { token: await tokenFor('stranger') },
    );
    expect(theirs.data?.node).toBeNull();
    expect(theirs.data?.me.holds.edges).toEqual([]);
    const stolen = await checkout(api, 'stranger', holdId);
    expect(stolen.__typename).toBe('NotFound');
    const released = await api.gql<{ releaseHold: { __typename: string } }>(
      RELEASE,
      { holdId },
      { token: await tokenFor('stranger') },
    );
    expect(released.data?.releaseHold.__typename).toBe('NotFound');
    expect((await seat(api, ticketIds[0] as string)).status).toBe('HELD');
  });

  it('expires a hold on time: the seat is AVAILABLE within 1 s of expiresAt, a subscriber sees it, checkout then sells nothing', async () => {
    const { eventId, ticketIds } = await createTestEvent(api.app, { seats: 2 });
    const url = await api.listen();
    const live = subscribeWs(wsClient(url), eventId);
    try {
      await live.until((messages) => messages.length >= 1);
      const held = await hold(api, 'slow-payer', [ticketIds[0] as string]);
      const expiresAt = new Date(held.hold?.expiresAt as string).getTime();
      await live.until((messages) => messages.some((m) => m.held === 1));
      let freedAt = 0;
      while (Date.now() < expiresAt + 3000) {
        if ((await seat(api, ticketIds[0] as string)).status === 'AVAILABLE') {
          freedAt = Date.now();
          break;
        }
        await sleep(20);
      }
      expect(freedAt, 'the seat came back').toBeGreaterThan(0);
      console.log(`hold expiry (${kind}): seat AVAILABLE ${freedAt - expiresAt} ms after expiresAt`);
      expect(freedAt - expiresAt).toBeLessThanOrEqual(1000);
      await live.until((messages) => messages.at(-1)?.held === 0 && messages.at(-1)?.available === 2);

      const late = await checkout(api, 'slow-payer', held.hold?.id as string);
      expect(late.__typename).toBe('HoldExpired');
      expect((await seat(api, ticketIds[0] as string)).status).toBe('AVAILABLE');
      const [bought] = await Promise.all([purchase(api, 'next-buyer', ticketIds[0] as string)]);
      expect(bought?.__typename).toBe('PurchaseTicketSuccess');
      await expectSaleInvariants(api.app.services.db);
    } finally {
      await live.close();
    }
  });

  it('answers a checkout past expiresAt with HoldExpired even before the sweeper runs', async () => {
    const { ticketIds } = await createTestEvent(api.app, { seats: 1 });
    const held = await hold(api, 'late', [ticketIds[0] as string]);
    api.app.holdSweeper.pause();
    try {
      await sleep(new Date(held.hold?.expiresAt as string).getTime() - Date.now() + 50);
      expect((await seat(api, ticketIds[0] as string)).status).toBe('HELD');
      const late = await checkout(api, 'late', held.hold?.id as string);
      expect(late.__typename).toBe('HoldExpired');
      expect((await seat(api, ticketIds[0] as string)).status).toBe('AVAILABLE');
      await expectSaleInvariants(api.app.services.db);
    } finally {
      api.app.holdSweeper.resume();
    }
  });

  it('lets a new hold take a seat whose hold expired before the sweeper frees it', async () => {
    const { ticketIds } = await createTestEvent(api.app, { seats: 2 });
    api.app.holdSweeper.pause();
    try {
      const first = await hold(api, 'gone', [ticketIds[0] as string, ticketIds[1] as string]);
      await sleep(new Date(first.hold?.expiresAt as string).getTime() - Date.now() + 50);
      expect((await seat(api, ticketIds[0] as string)).status).toBe('HELD');
      const second = await hold(api, 'next', [ticketIds[0] as string]);
      expect(second.__typename).toBe('HoldSeatsSuccess');
      // The new hold's own lock became its hold mark: the next buyer is refused by Redis alone.
      const quiet = api.queries();
      expect(await purchase(api, 'third', ticketIds[0] as string)).toMatchObject({ reason: 'HELD' });
      expect(api.queries()).toBe(quiet);
      // The whole expired hold ended: its other seat is back on sale too.
      expect((await seat(api, ticketIds[1] as string)).status).toBe('AVAILABLE');
      const late = await checkout(api, 'gone', first.hold?.id as string);
      expect(late.__typename).toBe('HoldExpired');
      await expectSaleInvariants(api.app.services.db);
    } finally {
      api.app.holdSweeper.resume();
    }
  });

  it('releases a hold at once, and counts held seats against the limit until then', async () => {
    const { ticketIds } = await createRuledEvent(api, { seats: 4, perCustomerLimit: 2 });
    const held = await hold(api, 'limited', [ticketIds[0] as string, ticketIds[1] as string]);
    expect(held.__typename).toBe('HoldSeatsSuccess');
    const more = await hold(api, 'limited', [ticketIds[2] as string]);
    expect(more).toMatchObject({ __typename: 'PurchaseLimitReached', limit: 2, held: 2 });
    await expectSaleInvariants(api.app.services.db);

    const released = await api.gql<{ releaseHold: { __typename: string; hold: { status: string } } }>(
      RELEASE,
      { holdId: held.hold?.id },
      { token: await tokenFor('limited') },
    );
    expect(released.data?.releaseHold).toMatchObject({
      __typename: 'ReleaseHoldSuccess',
      hold: { status: 'RELEASED' },
    });
    expect((await seat(api, ticketIds[0] as string)).status).toBe('AVAILABLE');
    const now = await hold(api, 'limited', [ticketIds[2] as string, ticketIds[3] as string]);
    expect(now.__typename).toBe('HoldSeatsSuccess');
    const afterRelease = await checkout(api, 'limited', held.hold?.id as string);
    expect(afterRelease.__typename).toBe('HoldExpired');
    await expectSaleInvariants(api.app.services.db);
  });

  it('cancels an order that came from a hold: the seats and the count come back', async () => {
    const { ticketIds } = await createRuledEvent(api, { seats: 2, perCustomerLimit: 2 });
    const held = await hold(api, 'canceller', [ticketIds[0] as string, ticketIds[1] as string], 'hold-key');
    const repeat = await hold(api, 'canceller', [ticketIds[0] as string, ticketIds[1] as string], 'hold-key');
    expect(repeat.hold?.id).toBe(held.hold?.id);
    const done = await checkout(api, 'canceller', held.hold?.id as string);
    const cancelled = await api.gql<{ cancelOrder: { __typename: string } }>(
      `mutation($id: ID!) { cancelOrder(orderId: $id) { __typename } }`,
      { id: done.order?.id },
      { token: await tokenFor('canceller') },
    );
    expect(cancelled.data?.cancelOrder.__typename).toBe('CancelOrderSuccess');
    expect((await seat(api, ticketIds[0] as string)).status).toBe('AVAILABLE');
    const again = await hold(api, 'canceller', [ticketIds[0] as string, ticketIds[1] as string]);
    expect(again.__typename).toBe('HoldSeatsSuccess');
    await expectSaleInvariants(api.app.services.db);
  });
});

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
      expect(await redis.keys(`${instances[0].redisPrefix}ticket:*`)).toEqual([]);
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
