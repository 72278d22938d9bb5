import { ApolloClient, gql, HttpLink, InMemoryCache } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';
import { fetchExchange, Client as UrqlClient } from '@urql/core';
import { createClient as createSseClient } from 'graphql-sse';
import { describe, expect } from 'vitest';
import possibleTypes from '../schema/possible-types.json' with { type: 'json' };
import { tokenFor } from './helpers/app.js';
import { launchBrowser } from './helpers/browser.js';
import { createEventWithTickets } from './helpers/events.js';
import { integrationTest } from './helpers/fixtures.js';
import { wsClient } from './helpers/live.js';

const it = integrationTest({ kind: 'embedded' });

const LIVE = 'subscription($e: ID!) { ticketAvailability(eventId: $e) { available total } }';

describe('clients nobody here wrote, with their default settings', () => {
  it('urql queries over GET with no content type', async ({ api }) => {
    const event = await createEventWithTickets(api, { seats: 3 });
    const urls: string[] = [];
    const client = new UrqlClient({
      url: await api.listen(),
      exchanges: [fetchExchange],
      preferGetMethod: true,
      fetch: (input, init) => {
        urls.push(`${init?.method ?? 'GET'} ${String(input).split('?')[0]}`);
        return fetch(input, init);
      },
    });
    const result = await client
      .query('query($id: ID!) { event(id: $id) { name tickets(first: 2) { edges { node { seat } } } } }', {
        id: event.eventGlobalId,
      })
      .toPromise();
    expect(result.error).toBeUndefined();
    expect(result.data.event.tickets.edges).toHaveLength(2);
    expect(urls[0]).toMatch(/^GET /);
  });

  it('Apollo Client with possibleTypes keeps ... on Error, and relayStylePagination pages seats', async ({ api }) => {
    const event = await createEventWithTickets(api, { seats: 5 });
    const token = await tokenFor('apollo-buyer');
    const client = new ApolloClient({
      link: new HttpLink({ uri: await api.listen(), headers: { authorization: `Bearer ${token}` } }),
      cache: new InMemoryCache({
        possibleTypes,
        typePolicies: { Event: { fields: { tickets: relayStylePagination(['status']) } } },
      }),
    });
    const buy = gql`mutation($id: ID!) { purchaseTicket(input: { ticketId: $id }) { __typename ... on Error { message } } }`;
    await client.mutate({ mutation: buy, variables: { id: event.ticketGlobalIds[0] } });
    const again = await client.mutate({ mutation: buy, variables: { id: event.ticketGlobalIds[0] } });
    expect(again.data).toMatchObject({
      purchaseTicket: { __typename: 'TicketUnavailable', message: expect.any(String) },
    });

    const SEATS = gql`query($id: ID!, $after: String) { event(id: $id) { id tickets(first: 2, after: $after, status: AVAILABLE) {
      edges { cursor node { id seat } } pageInfo { hasNextPage endCursor } } } }`;
    const first = await client.query({ query: SEATS, variables: { id: event.eventGlobalId } });
    const after = (first.data as { event: { tickets: { pageInfo: { endCursor: string } } } }).event.tickets.pageInfo
      .endCursor;
    await client.query({ query: SEATS, variables: { id: event.eventGlobalId, after }, fetchPolicy: 'network-only' });
    const merged = client.readQuery({ query: SEATS, variables: { id: event.eventGlobalId } }) as {
      event: { tickets: { edges: Array<{ node: { seat: string } }> } };
    };
    expect(merged.event.tickets.edges.map((edge) => edge.node.seat)).toEqual(['2', '3', '4', '5']);
  });

  it('graphql-ws and graphql-sse both stream the seat map', async ({ api }) => {
    const event = await createEventWithTickets(api, { seats: 4 });
    const url = await api.listen();
    const first = (
      subscribe: (sink: { next(value: unknown): void; error(e: unknown): void; complete(): void }) => () => void,
    ) =>
      new Promise<unknown>((resolve, reject) => {
        const stop = subscribe({
          next: (value) => {
            stop();
            resolve(value);
          },
          error: reject,
          complete: () => undefined,
        });
      });
    const ws = wsClient(url);
    const sse = createSseClient({ url, retryAttempts: 0 });
    try {
      const payload = { query: LIVE, variables: { e: event.eventGlobalId } };
      const expected = { data: { ticketAvailability: { available: 4, total: 4 } } };
      expect(await first((sink) => ws.subscribe(payload, sink as never))).toEqual(expected);
      expect(await first((sink) => sse.subscribe(payload, sink as never))).toEqual(expected);
    } finally {
      await ws.dispose();
      sse.dispose();
    }
  });

  it("a browser's native EventSource subscribes with a plain GET", async ({ api }) => {
    const event = await createEventWithTickets(api, { seats: 6 });
    const url = await api.listen();
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(`${url.replace('/graphql', '/health')}`);
      const stream = `${url}?query=${encodeURIComponent(LIVE)}&variables=${encodeURIComponent(JSON.stringify({ e: event.eventGlobalId }))}`;
      const message = await page.evaluate(
        (source) =>
          new Promise<string>((resolve, reject) => {
            const events = new EventSource(source);
            events.addEventListener('next', (e) => {
              events.close();
              resolve((e as MessageEvent<string>).data);
            });
            events.onerror = () => {
              events.close();
              reject(new Error('EventSource failed'));
            };
          }),
        stream,
      );
      expect(JSON.parse(message)).toEqual({ data: { ticketAvailability: { available: 6, total: 6 } } });
    } finally {
      await browser.close();
    }
  });
});
