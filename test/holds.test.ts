import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendKind, createTestEvent, purchase, startTestApp, type TestApp, tokenFor } from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { checkout, hold, RELEASE, SHORT_HOLDS, seat } from './helpers/holds.js';
import { expectSaleInvariants } from './helpers/invariants.js';
import { subscribeWs, wsClient } from './helpers/live.js';
import { createRuledEvent } from './helpers/sales.js';

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
