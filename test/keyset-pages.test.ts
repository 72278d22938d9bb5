import { describe, expect } from 'vitest';
import { purchase, type TestApp, tokenFor } from './helpers/app.js';
import { createEventWithTickets } from './helpers/events.js';
import { integrationTest } from './helpers/fixtures.js';
import { expectSaleInvariants } from './helpers/invariants.js';

const it = integrationTest();

interface Page {
  edges: Array<{ cursor: string; node: { id: string; seat: string } }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string; endCursor: string };
}

const PAGE = `edges { cursor node { id seat } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }`;

/** One page of an event's tickets, as the README's seat-map recipe asks for it. */
async function ticketsPage(api: TestApp, eventId: string, args: string): Promise<Page> {
  const response = await api.gql<{ event: { tickets: Page } }>(
    `query($id: ID!) { event(id: $id) { tickets(${args}) { ${PAGE} } } }`,
    { id: eventId },
  );
  if (!response.data) throw new Error(JSON.stringify(response.errors));
  return response.data.event.tickets;
}

const seats = (page: Page) => page.edges.map((edge) => Number(edge.node.seat));

describe('keyset cursors', () => {
  it('paging AVAILABLE seats while seats of an earlier page sell skips none', async ({ api }) => {
    const event = await createEventWithTickets(api, { seats: 30 });
    const first = await ticketsPage(api, event.eventGlobalId, 'first: 10, status: AVAILABLE');
    expect(seats(first)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // Two seats of page 1 sell before the buyer asks for page 2.
    for (const [n, edge] of first.edges.slice(0, 2).entries()) await purchase(api, `early-${n}`, edge.node.id);
    const second = await ticketsPage(
      api,
      event.eventGlobalId,
      `first: 10, status: AVAILABLE, after: "${first.pageInfo.endCursor}"`,
    );
    expect(seats(second)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    await expectSaleInvariants(api.app.services.db);
  });

  it('a full walk under a filter while seats sell ahead of and behind it sees every seat that stayed available, once', async ({
    api,
  }) => {
    const event = await createEventWithTickets(api, { seats: 60 });
    const token = await tokenFor('walker-seller');
    const sold = new Set<string>();
    const seen: string[] = [];
    let after: string | undefined;
    for (let round = 0; round < 20; round++) {
      const page = await ticketsPage(
        api,
        event.eventGlobalId,
        `first: 7, status: AVAILABLE${after ? `, after: "${after}"` : ''}`,
      );
      seen.push(...page.edges.map((edge) => edge.node.id));
      // Between pages, a seat behind the walker and one ahead of it sell.
      for (const index of [round * 3, 59 - round * 2]) {
        const id = event.ticketGlobalIds[index] ?? '';
        if (sold.has(id)) continue;
        const result = await api.gql(
          `mutation($id: ID!) { purchaseTicket(input: { ticketId: $id }) { __typename } }`,
          { id },
          { token },
        );
        expect(result.errors).toBeUndefined();
        sold.add(id);
      }
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(new Set(seen).size).toBe(seen.length);
    const stayedAvailable = event.ticketGlobalIds.filter((id) => !sold.has(id));
    for (const id of stayedAvailable) expect(seen).toContain(id);
    await expectSaleInvariants(api.app.services.db);
  });

  it('honours last, with and without before, and pages backwards to the start', async ({ api }) => {
    const event = await createEventWithTickets(api, { seats: 12 });
    const tail = await ticketsPage(api, event.eventGlobalId, 'last: 5');
    expect(seats(tail)).toEqual([8, 9, 10, 11, 12]);
    expect(tail.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
    const before = await ticketsPage(api, event.eventGlobalId, `last: 5, before: "${tail.pageInfo.startCursor}"`);
    expect(seats(before)).toEqual([3, 4, 5, 6, 7]);
    const start = await ticketsPage(api, event.eventGlobalId, `last: 5, before: "${before.pageInfo.startCursor}"`);
    expect(seats(start)).toEqual([1, 2]);
    expect(start.pageInfo.hasPreviousPage).toBe(false);
    const forward = await ticketsPage(api, event.eventGlobalId, `first: 3, after: "${start.pageInfo.endCursor}"`);
    expect(seats(forward)).toEqual([3, 4, 5]);
    expect(forward.pageInfo.hasPreviousPage).toBe(true);
  });

  it('refuses a bad cursor or first with last, with BAD_USER_INPUT', async ({ api }) => {
    const event = await createEventWithTickets(api, { seats: 3 });
    for (const args of [
      'after: "not a cursor"',
      `after: "${Buffer.from('Order:1').toString('base64')}"`,
      'first: 2, last: 2',
      'first: -1',
    ]) {
      const response = await api.gql(`query($id: ID!) { event(id: $id) { tickets(${args}) { ${PAGE} } } }`, {
        id: event.eventGlobalId,
      });
      expect(response.errors?.[0]?.extensions?.code, args).toBe('BAD_USER_INPUT');
    }
  });

  it('pages events by start time and orders newest first by stable keys', async ({ api }) => {
    const event = await createEventWithTickets(api, { seats: 6 });
    const token = await tokenFor('keyset-orders');
    for (const id of event.ticketGlobalIds.slice(0, 5)) {
      await api.gql(
        `mutation($id: ID!) { purchaseTicket(input: { ticketId: $id }) { __typename } }`,
        { id },
        { token },
      );
    }
    const ordersPage = async (args: string) => {
      const response = await api.gql<{
        me: { orders: { edges: Array<{ node: { id: string } }>; pageInfo: Page['pageInfo'] } };
      }>(
        `{ me { orders(${args}) { edges { node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }`,
        {},
        { token },
      );
      if (!response.data) throw new Error(JSON.stringify(response.errors));
      return response.data.me.orders;
    };
    const all = await ordersPage('first: 10');
    expect(all.edges).toHaveLength(5);
    const head = await ordersPage('first: 2');
    // A new order arrives at the top; the next page still continues where the first ended.
    await api.gql(
      `mutation($id: ID!) { purchaseTicket(input: { ticketId: $id }) { __typename } }`,
      { id: event.ticketGlobalIds[5] },
      { token },
    );
    const next = await ordersPage(`first: 2, after: "${head.pageInfo.endCursor}"`);
    expect(next.edges.map((edge) => edge.node.id)).toEqual(all.edges.slice(2, 4).map((edge) => edge.node.id));
    const events = await api.gql<{ events: { edges: Array<{ node: { id: string } }> } }>(
      `{ events(last: 1) { edges { node { id } } } }`,
    );
    expect(events.errors).toBeUndefined();
    expect(events.data?.events.edges).toHaveLength(1);
  });
});
