import { sql } from 'drizzle-orm';
import { describe, expect } from 'vitest';
import { encodeGlobalId, ticketGlobalId } from '../src/graphql/global-id.js';
import { schema } from '../src/graphql/schema.js';
import { type BackendKind, PURCHASE, type PurchaseResult, purchase, type TestApp, tokenFor } from './helpers/app.js';
import { createEventWithTickets, type TestEvent } from './helpers/events.js';
import { integrationTest } from './helpers/fixtures.js';
import { expectSaleInvariants } from './helpers/invariants.js';
import { rows } from './helpers/sql.js';

let failNextPurchase = false;
const hooks = {
  afterLock: async () => {
    if (!failNextPurchase) return;
    failNextPurchase = false;
    throw new Error('disk on fire: secret internal detail');
  },
};

/** An app on `kind` whose next purchase fails when asked to, and one event of 12 seats at 42.00. */
const onBackend = (kind: BackendKind) =>
  integrationTest({ kind, app: { hooks } }).extend('event', { scope: 'file' }, ({ api }) =>
    createEventWithTickets(api, { seats: 12, priceCents: 4200 }),
  );
const tests = { real: onBackend('real'), embedded: onBackend('embedded') };

const writes = async (api: TestApp) => {
  const [counts] = await rows<{ orders: number; customers: number; sold: number; holds: number }>(
    api.app.services.db,
    sql`select (select count(*)::int from orders) as orders, (select count(*)::int from customers) as customers,
               (select count(*)::int from tickets where status <> 'AVAILABLE') as sold,
               (select count(*)::int from holds) as holds`,
  );
  return counts;
};

// One behaviour suite, run on both backends: what a buyer sees must not depend on the deployment.
describe.each<BackendKind>(['real', 'embedded'])('the purchase API on the %s backend', (kind) => {
  const it = tests[kind];

  it('lets anyone browse an event, its seats in seat-map order, and its availability', async ({ api, event }) => {
    const response = await api.gql<{
      event: {
        name: string;
        availability: { available: number; total: number };
        tickets: { edges: Array<{ node: { id: string; seat: string; status: string; version: number } }> };
      };
    }>(
      `query($id: ID!) { event(id: $id) { name availability { available held sold total }
         tickets(first: 5) { edges { node { id seat status version priceCents } } pageInfo { hasNextPage } } } }`,
      { id: event.eventGlobalId },
    );
    expect(response.errors).toBeUndefined();
    expect(response.data?.event.name).toBe('Test Night');
    expect(response.data?.event.availability).toEqual({ available: 12, held: 0, sold: 0, total: 12 });
    const seats = response.data?.event.tickets.edges.map((e) => e.node.seat);
    expect(seats).toEqual(['1', '2', '3', '4', '5']);
    expect(response.data?.event.tickets.edges[0]?.node.id).toBe(event.ticketGlobalIds[0]);
  });

  it('sells a seat to a signed-in buyer, who then finds it under me.orders', async ({ api, event }) => {
    const result = await purchase(api, 'ada', event.ticketGlobalIds[0] as string);
    expect(result.__typename).toBe('PurchaseTicketSuccess');
    expect(result.order?.totalCents).toBe(4200);
    expect(result.order?.tickets).toEqual([{ id: event.ticketGlobalIds[0], status: 'SOLD' }]);

    const mine = await api.gql<{ me: { id: string; orders: { edges: Array<{ node: { id: string } }> } } }>(
      '{ me { id orders(first: 10) { edges { node { id } } } } }',
      {},
      { token: await tokenFor('ada') },
    );
    expect(mine.data?.me.id).toBe('ada');
    expect(mine.data?.me.orders.edges.map((e) => e.node.id)).toEqual([result.order?.id]);
    await expectSaleInvariants(api.app.services.db);
  });

  it('tells the next buyer of a sold seat SOLD, as a typed error', async ({ api, event }) => {
    const seat = event.ticketGlobalIds[1] as string;
    await purchase(api, 'bo', seat);
    const result = await purchase(api, 'cy', seat);
    expect(result).toMatchObject({ __typename: 'TicketUnavailable', reason: 'SOLD', ticketId: seat });
    expect(result.message).toMatch(/sold/i);
  });

  it('answers NotFound for a well-formed id that names no ticket, and writes nothing', async ({ api, event }) => {
    const before = await writes(api);
    const unknown = ticketGlobalId({ eventId: event.eventId, id: '7a0c3c4e-0000-4000-8000-000000000000' });
    const result = await purchase(api, 'dee', unknown);
    expect(result.__typename).toBe('NotFound');
    expect(await writes(api)).toEqual(before);
  });

  it.for<[string, (event: TestEvent) => string]>([
    ['garbage', () => 'not-an-id'],
    ['an Event id', (event) => event.eventGlobalId],
    ['a non-UUID ticket id', () => encodeGlobalId('Ticket', '42; drop table tickets')],
  ])('refuses %s as a ticket id with a clear error and writes nothing', async ([, idOf], { api, event }) => {
    const before = await writes(api);
    const response = await api.gql<PurchaseResult>(
      PURCHASE,
      { ticketId: idOf(event) },
      { token: await tokenFor('eve') },
    );
    expect(response.data ?? null).toBeNull();
    expect(response.errors?.[0]?.message).toMatch(/id|Ticket/);
    expect(await writes(api)).toEqual(before);
  });

  it.for<[string, () => Promise<string | undefined>]>([
    ['no token', async () => undefined],
    ['a forged token', async () => `Bearer ${(await tokenFor('mallory')).slice(0, -4)}AAAA`],
    [
      'an expired token',
      async () => `Bearer ${await tokenFor('mallory', { expiresIn: Math.floor(Date.now() / 1000) - 60 })}`,
    ],
    ['a malformed Authorization header', async () => 'Token abc'],
  ])('refuses a purchase with %s as UNAUTHENTICATED and writes nothing', async ([, authorization], { api, event }) => {
    const before = await writes(api);
    const response = await api.gql(
      PURCHASE,
      { ticketId: event.ticketGlobalIds[5] },
      { authorization: await authorization() },
    );
    expect(response.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(response.errors?.[0]?.message).toMatch(/token|sign in|authorization/i);
    expect(await writes(api)).toEqual(before);
  });

  it('refuses every mutation to an anonymous caller as UNAUTHENTICATED (HTTP 401), writing nothing', async ({
    api,
    event: { ticketGlobalIds },
  }) => {
    // Each guarded resolver checks the caller itself (src/graphql/types/viewer.ts), so this list must name
    // every mutation: a new one fails here until it is added, and then until it is guarded.
    const someEvent = encodeGlobalId('Event', '00000000-0000-4000-8000-000000000009');
    const someHold = encodeGlobalId('Hold', '00000000-0000-4000-8000-000000000009');
    const anonymous: Record<string, [string, Record<string, unknown>]> = {
      purchaseTicket: [PURCHASE, { ticketId: ticketGlobalIds[6] }],
      purchaseTickets: [
        'mutation($ids: [ID!]!) { purchaseTickets(input: { ticketIds: $ids }) { __typename } }',
        { ids: [ticketGlobalIds[6], ticketGlobalIds[7]] },
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
        { ids: [ticketGlobalIds[6]] },
      ],
      holdBestAvailable: [
        'mutation($id: ID!) { holdBestAvailable(input: { eventId: $id, quantity: 1 }) { __typename } }',
        { id: someEvent },
      ],
      checkout: ['mutation($id: ID!) { checkout(input: { holdId: $id }) { __typename } }', { id: someHold }],
      releaseHold: ['mutation($id: ID!) { releaseHold(holdId: $id) { __typename } }', { id: someHold }],
    };
    expect(Object.keys(schema.getMutationType()?.getFields() ?? {}).sort()).toEqual(Object.keys(anonymous).sort());
    const before = await writes(api);
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
    expect(await writes(api)).toEqual(before);
    expect(await events()).toEqual(eventsBefore);
  });

  it("keeps every customer's orders invisible to everyone else", async ({ api, event }) => {
    const bought = await purchase(api, 'fay', event.ticketGlobalIds[2] as string);
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

  it('answers the same once a purchase document runs as compiled code (graphql-jit)', async ({
    api,
    event: { ticketGlobalIds },
  }) => {
    // A document of its own, so its first three runs are on the standard executor and the rest compiled.
    const query = `${PURCHASE} # compiled-or-not`;
    const token = await tokenFor('jit-buyer');
    const answers = async (ticketId: unknown) => {
      const response = await api.gql(query, { ticketId }, { token });
      return JSON.stringify({ status: response.status, data: response.data, errors: response.errors });
    };
    await purchase(api, 'jit-seller', ticketGlobalIds[9] as string);
    const runs: Array<() => Promise<string>> = [
      () => answers(ticketGlobalIds[9]), // TicketUnavailable SOLD
      () => answers('not-an-id'), // BAD_USER_INPUT
      () => answers(null), // a variable error
    ];
    const before = await writes(api);
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
    const masked = await api.gql(query, { ticketId: ticketGlobalIds[8] }, { token });
    expect(masked.errors?.[0]).toMatchObject({
      message: 'Unexpected error.',
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
    expect(await writes(api)).toEqual(before);
    const sale = await api.gql<PurchaseResult>(query, { ticketId: ticketGlobalIds[8] }, { token });
    expect(sale.data?.purchaseTicket).toMatchObject({
      __typename: 'PurchaseTicketSuccess',
      order: { totalCents: 4200 },
    });
  });

  it('masks an unexpected failure with extensions.code, frees the lock, and writes nothing', async ({ api, event }) => {
    const seat = event.ticketGlobalIds[3] as string;
    const before = await writes(api);
    failNextPurchase = true;
    const response = await api.gql(PURCHASE, { ticketId: seat }, { token: await tokenFor('hal') });
    expect(response.errors?.[0]?.message).toBe('Unexpected error.');
    expect(response.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(JSON.stringify(response)).not.toContain('disk on fire');
    expect(await writes(api)).toEqual(before);
    // The failed attempt released its lock: the seat is for sale again at once.
    expect((await purchase(api, 'hal', seat)).__typename).toBe('PurchaseTicketSuccess');
  });
});
