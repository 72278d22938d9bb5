import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalId, ticketGlobalId } from '../src/graphql/global-id.js';
import { schema } from '../src/graphql/schema.js';
import {
  type BackendKind,
  createTestEvent,
  PURCHASE,
  type PurchaseResult,
  purchase,
  startTestApp,
  type TestApp,
  tokenFor,
} from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { expectSaleInvariants } from './helpers/invariants.js';
import { rows } from './helpers/sql.js';

// One behaviour suite, run on both backends: what a buyer sees must not depend on the deployment.
describe.each<BackendKind>(['real', 'embedded'])('the purchase API on the %s backend', (kind) => {
  let database: TestDatabase | undefined;
  let api: TestApp;
  let ticketIds: string[];
  let eventId: string;
  let failNextPurchase = false;

  const writes = async () => {
    const [counts] = await rows<{ orders: number; customers: number; sold: number; holds: number }>(
      api.app.services.db,
      sql`select (select count(*)::int from orders) as orders, (select count(*)::int from customers) as customers,
                 (select count(*)::int from tickets where status <> 'AVAILABLE') as sold,
                 (select count(*)::int from holds) as holds`,
    );
    return counts;
  };

  beforeAll(async () => {
    if (kind === 'real') database = await createTestDatabase();
    api = await startTestApp({
      kind,
      databaseUrl: database?.url,
      hooks: {
        afterLock: async () => {
          if (!failNextPurchase) return;
          failNextPurchase = false;
          throw new Error('disk on fire: secret internal detail');
        },
      },
    });
    ({ ticketIds, eventId } = await createTestEvent(api.app, { seats: 12, priceCents: 4200 }));
  });
  afterAll(async () => {
    await api?.stop();
    await database?.drop();
  });

  it('lets anyone browse an event, its seats in seat-map order, and its availability', async () => {
    const response = await api.gql<{
      event: {
        name: string;
        availability: { available: number; total: number };
        tickets: { edges: Array<{ node: { id: string; seat: string; status: string; version: number } }> };
      };
    }>(
      `query($id: ID!) { event(id: $id) { name availability { available held sold total }
         tickets(first: 5) { edges { node { id seat status version priceCents } } pageInfo { hasNextPage } } } }`,
      { id: eventId },
    );
    expect(response.errors).toBeUndefined();
    expect(response.data?.event.name).toBe('Test Night');
    expect(response.data?.event.availability).toEqual({ available: 12, held: 0, sold: 0, total: 12 });
    const seats = response.data?.event.tickets.edges.map((e) => e.node.seat);
    expect(seats).toEqual(['1', '2', '3', '4', '5']);
    expect(response.data?.event.tickets.edges[0]?.node.id).toBe(ticketIds[0]);
  });

  it('sells a seat to a signed-in buyer, who then finds it under me.orders', async () => {
    const result = await purchase(api, 'ada', ticketIds[0] as string);
    expect(result.__typename).toBe('PurchaseTicketSuccess');
    expect(result.order?.totalCents).toBe(4200);
    expect(result.order?.tickets).toEqual([{ id: ticketIds[0], status: 'SOLD' }]);

    const mine = await api.gql<{ me: { id: string; orders: { edges: Array<{ node: { id: string } }> } } }>(
      '{ me { id orders(first: 10) { edges { node { id } } } } }',
      {},
      { token: await tokenFor('ada') },
    );
    expect(mine.data?.me.id).toBe('ada');
    expect(mine.data?.me.orders.edges.map((e) => e.node.id)).toEqual([result.order?.id]);
    await expectSaleInvariants(api.app.services.db);
  });

  it('tells the next buyer of a sold seat SOLD, as a typed error', async () => {
    await purchase(api, 'bo', ticketIds[1] as string);
    const result = await purchase(api, 'cy', ticketIds[1] as string);
    expect(result).toMatchObject({ __typename: 'TicketUnavailable', reason: 'SOLD', ticketId: ticketIds[1] });
    expect(result.message).toMatch(/sold/i);
  });

  it('answers NotFound for a well-formed id that names no ticket, and writes nothing', async () => {
    const before = await writes();
    const eventUuid = Buffer.from(eventId, 'base64').toString().split(':')[1] as string;
    const unknown = ticketGlobalId({ eventId: eventUuid, id: '7a0c3c4e-0000-4000-8000-000000000000' });
    const result = await purchase(api, 'dee', unknown);
    expect(result.__typename).toBe('NotFound');
    expect(await writes()).toEqual(before);
  });

  it.each([
    ['garbage', 'not-an-id'],
    ['an Event id', () => eventId],
    ['a non-UUID ticket id', encodeGlobalId('Ticket', '42; drop table tickets')],
  ])('refuses %s as a ticket id with a clear error and writes nothing', async (_label, id) => {
    const before = await writes();
    const response = await api.gql<PurchaseResult>(
      PURCHASE,
      { ticketId: typeof id === 'function' ? id() : id },
      { token: await tokenFor('eve') },
    );
    expect(response.data ?? null).toBeNull();
    expect(response.errors?.[0]?.message).toMatch(/id|Ticket/);
    expect(await writes()).toEqual(before);
  });

  it.each([
    ['no token', async () => undefined],
    ['a forged token', async () => `Bearer ${(await tokenFor('mallory')).slice(0, -4)}AAAA`],
    [
      'an expired token',
      async () => `Bearer ${await tokenFor('mallory', { expiresIn: Math.floor(Date.now() / 1000) - 60 })}`,
    ],
    ['a malformed Authorization header', async () => 'Token abc'],
  ])('refuses a purchase with %s as UNAUTHENTICATED and writes nothing', async (_label, authorization) => {
    const before = await writes();
    const response = await api.gql(PURCHASE, { ticketId: ticketIds[5] }, { authorization: await authorization() });
    expect(response.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(response.errors?.[0]?.message).toMatch(/token|sign in|authorization/i);
    expect(await writes()).toEqual(before);
  });

  it('refuses every mutation to an anonymous caller as UNAUTHENTICATED (HTTP 401), writing nothing', async () => {
    // Each guarded resolver checks the caller itself (src/graphql/types/viewer.ts), so this list must name
    // every mutation: a new one fails here until it is added, and then until it is guarded.
    const someEvent = encodeGlobalId('Event', '00000000-0000-4000-8000-000000000009');
    const someHold = encodeGlobalId('Hold', '00000000-0000-4000-8000-000000000009');
    const anonymous: Record<string, [string, Record<string, unknown>]> = {
      purchaseTicket: [PURCHASE, { ticketId: ticketIds[6] }],
      purchaseTickets: [
        'mutation($ids: [ID!]!) { purchaseTickets(input: { ticketIds: $ids }) { __typename } }',
        { ids: [ticketIds[6], ticketIds[7]] },
      ],
      cancelOrder: [
        'mutation($id: ID!) { cancelOrder(orderId: $id) { __typename } }',
        { id: encodeGlobalId('Order', '00000000-0000-4000-8000-000000000009') },
      ],
      createEvent: [
        `mutation($input: CreateEventInput!) { createEvent(input: $input) { __typename } }`,
        {
          input: {
            name: 'Gatecrash',
            venue: 'Nowhere',
            startsAt: '2031-01-01T20:00:00Z',
            sections: [{ name: 'A', rows: 1, seatsPerRow: 1, priceCents: 1 }],
          },
        },
      ],
      openSale: ['mutation($id: ID!) { openSale(eventId: $id) { __typename } }', { id: someEvent }],
      closeSale: ['mutation($id: ID!) { closeSale(eventId: $id) { __typename } }', { id: someEvent }],
      holdSeats: [
        'mutation($ids: [ID!]!) { holdSeats(input: { ticketIds: $ids }) { __typename } }',
        { ids: [ticketIds[6]] },
      ],
      checkout: ['mutation($id: ID!) { checkout(input: { holdId: $id }) { __typename } }', { id: someHold }],
      releaseHold: ['mutation($id: ID!) { releaseHold(holdId: $id) { __typename } }', { id: someHold }],
    };
    expect(Object.keys(schema.getMutationType()?.getFields() ?? {}).sort()).toEqual(Object.keys(anonymous).sort());
    const before = await writes();
    const events = async () =>
      (await rows<{ n: number }>(api.app.services.db, sql`select count(*)::int as n from events`))[0];
    const eventsBefore = await events();
    for (const [field, [query, variables]] of Object.entries(anonymous)) {
      const response = await api.gql(query, variables);
      expect({ field, code: response.errors?.[0]?.extensions?.code, status: response.status }).toEqual({
        field,
        code: 'UNAUTHENTICATED',
        status: 401,
      });
    }
    expect(await writes()).toEqual(before);
    expect(await events()).toEqual(eventsBefore);
  });

  it("keeps every customer's orders invisible to everyone else", async () => {
    const bought = await purchase(api, 'fay', ticketIds[2] as string);
    const orderId = bought.order?.id;
    const query = `query($id: ID!) { node(id: $id) { id ... on Order { totalCents } } me { orders(first: 50) { edges { node { id } } } } }`;
    const stranger = await api.gql<{ node: unknown; me: { orders: { edges: Array<{ node: { id: string } }> } } }>(
      query,
      { id: orderId },
      { token: await tokenFor('gus') },
    );
    expect(stranger.errors).toBeUndefined();
    expect(stranger.data?.node).toBeNull();
    expect(stranger.data?.me.orders.edges).toEqual([]);
    const anonymous = await api.gql<{ node: unknown; me: unknown }>(query, { id: orderId });
    expect(anonymous.data).toEqual({ node: null, me: null });
    const owner = await api.gql<{ node: { id: string } }>(query, { id: orderId }, { token: await tokenFor('fay') });
    expect(owner.data?.node).toMatchObject({ id: orderId, totalCents: 4200 });
  });

  it('answers the same once a purchase document runs as compiled code (graphql-jit)', async () => {
    // A document of its own, so its first three runs are on the standard executor and the rest compiled.
    const query = `${PURCHASE} # compiled-or-not`;
    const token = await tokenFor('jit-buyer');
    const answers = async (ticketId: unknown) => {
      const response = await api.gql(query, { ticketId }, { token });
      return JSON.stringify({ status: response.status, data: response.data, errors: response.errors });
    };
    await purchase(api, 'jit-seller', ticketIds[9] as string);
    const runs: Array<() => Promise<string>> = [
      () => answers(ticketIds[9]), // TicketUnavailable SOLD
      () => answers('not-an-id'), // BAD_USER_INPUT
      () => answers(null), // a variable error
    ];
    const before = await writes();
    const first = [];
    for (const run of runs) first.push(await run()); // runs 1-3 of this document: standard
    const compiled = [];
    for (const run of runs) compiled.push(await run()); // runs 4-6: compiled
    expect(compiled).toEqual(first);
    expect(first[0]).toContain('"reason":"SOLD"');
    expect(first[1]).toContain('BAD_USER_INPUT');
    expect(first[2]).toContain('ticketId');
    // A masked failure and a sale, compiled.
    failNextPurchase = true;
    const masked = await api.gql(query, { ticketId: ticketIds[8] }, { token });
    expect(masked.errors?.[0]).toMatchObject({
      message: 'Unexpected error.',
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
    expect(await writes()).toEqual(before);
    const sale = await api.gql<PurchaseResult>(query, { ticketId: ticketIds[8] }, { token });
    expect(sale.data?.purchaseTicket).toMatchObject({
      __typename: 'PurchaseTicketSuccess',
      order: { totalCents: 4200 },
    });
  });

  it('masks an unexpected failure with extensions.code, frees the lock, and writes nothing', async () => {
    const before = await writes();
    failNextPurchase = true;
    const response = await api.gql(PURCHASE, { ticketId: ticketIds[3] }, { token: await tokenFor('hal') });
    expect(response.errors?.[0]?.message).toBe('Unexpected error.');
    expect(response.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(JSON.stringify(response)).not.toContain('disk on fire');
    expect(await writes()).toEqual(before);
    // The failed attempt released its lock: the seat is for sale again at once.
    expect((await purchase(api, 'hal', ticketIds[3] as string)).__typename).toBe('PurchaseTicketSuccess');
  });
});
