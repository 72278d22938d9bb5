import { sql } from 'drizzle-orm';
import { describe, expect } from 'vitest';
import { decodeGlobalId } from '../src/graphql/global-id.js';
import { type BackendKind, type TestApp, tokenFor } from './helpers/app.js';
import { createEventWithTickets } from './helpers/events.js';
import { integrationTest } from './helpers/fixtures.js';
import { expectSaleInvariants } from './helpers/invariants.js';
import { purchaseMany } from './helpers/sales.js';
import { rows } from './helpers/sql.js';

const tests = { real: integrationTest(), embedded: integrationTest({ kind: 'embedded' }) };

const REUSED = '... on IdempotencyKeyReused { idempotencyKey earlierId message }';

const BUY = /* GraphQL */ `
  mutation Buy($ticketIds: [ID!]!, $key: String) {
    purchaseTickets(input: { ticketIds: $ticketIds, idempotencyKey: $key }) {
      __typename
      ... on PurchaseTicketsSuccess { order { id tickets { id } } }
      ... on TicketsUnavailable { tickets { ticketId reason } }
      ${REUSED}
      ... on Error { message }
    }
  }
`;

const BUY_ONE = /* GraphQL */ `
  mutation BuyOne($ticketId: ID!, $key: String) {
    purchaseTicket(input: { ticketId: $ticketId, idempotencyKey: $key }) {
      __typename
      ... on PurchaseTicketSuccess { order { id } }
      ${REUSED}
      ... on Error { message }
    }
  }
`;

const HOLD = /* GraphQL */ `
  mutation Hold($ticketIds: [ID!]!, $key: String) {
    holdSeats(input: { ticketIds: $ticketIds, idempotencyKey: $key }) {
      __typename
      ... on HoldSeatsSuccess { hold { id } }
      ${REUSED}
      ... on Error { message }
    }
  }
`;

const CHECKOUT = /* GraphQL */ `
  mutation Checkout($holdId: ID!, $key: String) {
    checkout(input: { holdId: $holdId, idempotencyKey: $key }) {
      __typename
      ... on CheckoutSuccess { order { id } }
      ${REUSED}
      ... on Error { message }
    }
  }
`;

interface Member {
  __typename: string;
  order?: { id: string; tickets?: Array<{ id: string }> };
  hold?: { id: string };
  tickets?: Array<{ ticketId: string; reason: string }>;
  idempotencyKey?: string;
  earlierId?: string;
  message?: string;
}

async function send(api: TestApp, sub: string, query: string, variables: Record<string, unknown>): Promise<Member> {
  const response = await api.gql<Record<string, Member>>(query, variables, { token: await tokenFor(sub) });
  const member = response.data && Object.values(response.data)[0];
  if (!member) throw new Error(`mutation failed: ${JSON.stringify(response.errors)}`);
  return member;
}

/** What the database holds for a customer: orders, order lines, holds, the limit counter, and a seat's status. */
async function state(api: TestApp, customer: string, ticketId: string) {
  const [row] = await rows<{ orders: number; lines: number; holds: number; counted: number; status: string }>(
    api.app.services.db,
    sql`select (select count(*)::int from orders where customer_id = ${customer}) as orders,
      (select count(*)::int from order_tickets ot join orders o on o.id = ot.order_id
        where o.customer_id = ${customer}) as lines,
      (select count(*)::int from holds where customer_id = ${customer}) as holds,
      (select coalesce(sum(tickets), 0)::int from customer_event_tickets where customer_id = ${customer}) as counted,
      (select status::text from tickets where id = ${ticketId}::uuid) as status`,
  );
  return row;
}

describe.each<BackendKind>(['real', 'embedded'])('an idempotency key reused for another request (%s)', (kind) => {
  const it = tests[kind];

  it('purchaseTickets: other seats get IdempotencyKeyReused and nothing is bought; the same seats get the same order', async ({
    api,
  }) => {
    const seats = await createEventWithTickets(api, { seats: 3 });
    const [a, b] = seats.ticketGlobalIds as [string, string];
    const rawB = seats.ticketIds[1] as string;
    const first = await send(api, 'reuser', BUY, { ticketIds: [a], key: 'pay-1' });
    expect(first.__typename).toBe('PurchaseTicketsSuccess');
    const before = await state(api, 'reuser', rawB);

    const other = await send(api, 'reuser', BUY, { ticketIds: [b], key: 'pay-1' });
    expect(other).toMatchObject({
      __typename: 'IdempotencyKeyReused',
      idempotencyKey: 'pay-1',
      earlierId: first.order?.id,
    });
    expect(other.message).toMatch(/nothing was bought/);
    // A superset of the first seats is another request too (its first seat's sold mark names the buyer).
    const more = await send(api, 'reuser', BUY, { ticketIds: [a, b], key: 'pay-1' });
    expect(more.__typename).toBe('IdempotencyKeyReused');
    expect(await state(api, 'reuser', rawB)).toEqual({ ...before, status: 'AVAILABLE' });

    // The same seats, in any order or repeated, are a retry.
    const retry = await send(api, 'reuser', BUY, { ticketIds: [a, a], key: 'pay-1' });
    expect(retry).toMatchObject({ __typename: 'PurchaseTicketsSuccess', order: { id: first.order?.id } });
    // Keys belong to their customer: someone else's "pay-1" buys b.
    expect((await send(api, 'someone-else', BUY, { ticketIds: [b], key: 'pay-1' })).__typename).toBe(
      'PurchaseTicketsSuccess',
    );
    await expectSaleInvariants(api.app.services.db);
  });

  it('purchaseTicket: the key of another seat is refused the same way', async ({ api }) => {
    const seats = await createEventWithTickets(api, { seats: 2 });
    const [a, b] = seats.ticketGlobalIds as [string, string];
    const rawB = seats.ticketIds[1] as string;
    const first = await send(api, 'single', BUY_ONE, { ticketId: a, key: 'one' });
    expect(first.__typename).toBe('PurchaseTicketSuccess');
    const other = await send(api, 'single', BUY_ONE, { ticketId: b, key: 'one' });
    expect(other).toMatchObject({ __typename: 'IdempotencyKeyReused', earlierId: first.order?.id });
    expect((await state(api, 'single', rawB))?.status).toBe('AVAILABLE');
    expect((await send(api, 'single', BUY_ONE, { ticketId: a, key: 'one' })).order?.id).toBe(first.order?.id);
  });

  it('holdSeats: other seats get IdempotencyKeyReused naming the hold, and nothing is held', async ({ api }) => {
    const seats = await createEventWithTickets(api, { seats: 2 });
    const [a, b] = seats.ticketGlobalIds as [string, string];
    const rawB = seats.ticketIds[1] as string;
    const first = await send(api, 'holder', HOLD, { ticketIds: [a], key: 'hold-1' });
    expect(first.__typename).toBe('HoldSeatsSuccess');
    const before = await state(api, 'holder', rawB);
    const other = await send(api, 'holder', HOLD, { ticketIds: [b], key: 'hold-1' });
    expect(other).toMatchObject({
      __typename: 'IdempotencyKeyReused',
      idempotencyKey: 'hold-1',
      earlierId: first.hold?.id,
    });
    expect(other.message).toMatch(/nothing was held/);
    expect(await state(api, 'holder', rawB)).toEqual({ ...before, status: 'AVAILABLE' });
    expect((await send(api, 'holder', HOLD, { ticketIds: [a], key: 'hold-1' })).hold?.id).toBe(first.hold?.id);
    await expectSaleInvariants(api.app.services.db);
  });

  it('checkout: a key that already paid for another hold is refused, and that hold stays active', async ({ api }) => {
    const seats = await createEventWithTickets(api, { seats: 2 });
    const [a, b] = seats.ticketGlobalIds as [string, string];
    const rawB = seats.ticketIds[1] as string;
    const first = await send(api, 'payer', HOLD, { ticketIds: [a] });
    const second = await send(api, 'payer', HOLD, { ticketIds: [b] });
    const paid = await send(api, 'payer', CHECKOUT, { holdId: first.hold?.id, key: 'pay-hold' });
    expect(paid.__typename).toBe('CheckoutSuccess');
    const before = await state(api, 'payer', rawB);

    const other = await send(api, 'payer', CHECKOUT, { holdId: second.hold?.id, key: 'pay-hold' });
    expect(other).toMatchObject({ __typename: 'IdempotencyKeyReused', earlierId: paid.order?.id });
    expect(await state(api, 'payer', rawB)).toEqual({ ...before, status: 'HELD' });
    const [hold] = await rows<{ status: string }>(
      api.app.services.db,
      sql`select status::text from holds where id = ${decodeGlobalId(second.hold?.id as string).id}::uuid`,
    );
    expect(hold?.status).toBe('ACTIVE');

    // The retry of the first checkout still answers with its order; the second hold pays with a new key.
    expect((await send(api, 'payer', CHECKOUT, { holdId: first.hold?.id, key: 'pay-hold' })).order?.id).toBe(
      paid.order?.id,
    );
    expect((await send(api, 'payer', CHECKOUT, { holdId: second.hold?.id, key: 'pay-hold-2' })).__typename).toBe(
      'CheckoutSuccess',
    );
    await expectSaleInvariants(api.app.services.db);
  });
});

describe('a reused key under load (Postgres and Redis)', () => {
  const it = tests.real;

  it('one key sent at once with two seat sets makes one order; the other set gets IdempotencyKeyReused', async ({
    api,
    database,
  }) => {
    const { ticketIds, ticketGlobalIds } = await createEventWithTickets(api, { seats: 2 });
    const sets = [[ticketGlobalIds[0] as string], [ticketGlobalIds[1] as string]];
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => purchaseMany(api, 'racer', sets[i % 2] as string[], 'race-key')),
    );
    const wins = results.filter((r) => r.__typename === 'PurchaseTicketsSuccess');
    const orderIds = new Set(wins.map((r) => r.order?.id));
    expect(orderIds.size).toBe(1);
    expect(wins).toHaveLength(5);
    expect(results.filter((r) => r.__typename === 'IdempotencyKeyReused')).toHaveLength(5);
    const [count] = await database.sql<{ orders: number; sold: number }[]>`
      select (select count(*)::int from orders where customer_id = 'racer') as orders,
        (select count(*)::int from tickets where status = 'SOLD' and id in ${database.sql(ticketIds)}) as sold`;
    expect(count).toEqual({ orders: 1, sold: 1 });
    expect((await expectSaleInvariants(api.app.services.db)).orders).toBeGreaterThanOrEqual(1);
  });

  it('a reused key whose seat another buyer has is refused by Redis alone, with no query, as any loser is', async ({
    api,
  }) => {
    const { ticketGlobalIds } = await createEventWithTickets(api, { seats: 2 });
    const [a, b] = ticketGlobalIds as [string, string];
    expect((await purchaseMany(api, 'first-buyer', [a], 'mine')).__typename).toBe('PurchaseTicketsSuccess');
    expect((await purchaseMany(api, 'other-buyer', [b])).__typename).toBe('PurchaseTicketsSuccess');
    const before = api.queries();
    const refused = await purchaseMany(api, 'first-buyer', [b], 'mine');
    expect(refused).toMatchObject({ __typename: 'TicketsUnavailable', tickets: [{ ticketId: b, reason: 'SOLD' }] });
    expect(api.queries()).toBe(before);
    await expectSaleInvariants(api.app.services.db);
  });
});
