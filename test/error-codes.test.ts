import type { Client } from 'graphql-ws';
import { describe, expect } from 'vitest';
import { createEventWithTickets } from './helpers/events.js';
import { integrationTest } from './helpers/fixtures.js';
import { wsClient } from './helpers/live.js';

const it = integrationTest({ kind: 'embedded' });

type Errors = Array<{ message: string; extensions?: Record<string, unknown> }>;

const nested = (depth: number): string =>
  depth === 0 ? 'id' : `tickets { edges { node { event { ${nested(depth - 1)} } } } }`;

/** Documents each refused by one of graphql-armor's limits, with the code it must carry. */
const REFUSED: Array<[string, string]> = [
  ['QUERY_TOO_DEEP', `{ events { edges { node { ${nested(3)} } } } }`],
  ['TOO_MANY_ALIASES', `{ ${Array.from({ length: 20 }, (_, i) => `a${i}: events { __typename }`).join(' ')} }`],
  ['QUERY_TOO_LARGE', `{ ${'__typename '.repeat(3100)}}`],
  ['TOO_MANY_DIRECTIVES', `{ __typename ${'@skip(if: false) '.repeat(25)}}`],
];

async function post(url: string, query: string, accept: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: (await response.json()) as { data?: unknown; errors?: Errors } };
}

/** The first error a graphql-ws client gets for `query`. */
function wsError(client: Client, query: string): Promise<Errors[number]> {
  return new Promise((resolve, reject) => {
    client.subscribe(
      { query },
      {
        next: (result) => (result.errors ? resolve(result.errors[0] as Errors[number]) : reject(new Error('no error'))),
        error: (errors) => resolve((errors as Errors)[0] as Errors[number]),
        complete: () => reject(new Error('completed without an error')),
      },
    );
  });
}

describe('every error a client can get has extensions.code', () => {
  it('query-limit refusals are HTTP 400 with a code and a plain message, under either JSON type', async ({ api }) => {
    const url = await api.listen();
    for (const [code, query] of REFUSED) {
      for (const accept of ['application/json', 'application/graphql-response+json']) {
        const { status, body } = await post(url, query, accept);
        expect({ code, accept, status }).toEqual({ code, accept, status: 400 });
        expect(body.data).toBeUndefined();
        expect(body.errors?.[0]?.extensions?.code).toBe(code);
        expect(body.errors?.[0]?.message).not.toMatch(/Syntax Error/);
      }
    }
  });

  it('an id of the wrong type, invalid base64 and paging misuse are BAD_USER_INPUT', async ({ api }) => {
    const event = await createEventWithTickets(api, { seats: 2 });
    const orderId = Buffer.from('Order:0b4b1b1e-1111-4111-8111-111111111111').toString('base64');
    const documents = [
      `{ event(id: "${orderId}") { id } }`,
      '{ event(id: "!!!not base64") { id } }',
      `{ event(id: "${event.eventGlobalId}") { tickets(first: 1, last: 1) { edges { cursor } } } }`,
      `{ event(id: "${event.eventGlobalId}") { tickets(last: 1, after: "bm9wZQ==") { edges { cursor } } } }`,
    ];
    for (const query of documents) {
      const response = await api.gql(query);
      expect(response.errors?.[0]?.extensions?.code, query).toBe('BAD_USER_INPUT');
    }
  });

  it('over WebSocket, errors carry their code and nothing of HTTP', async ({ api }) => {
    const url = await api.listen();
    const client = wsClient(url);
    try {
      const holdId = Buffer.from('Hold:0b4b1b1e-1111-4111-8111-111111111111').toString('base64');
      const unauthenticated = await wsError(client, `mutation { releaseHold(holdId: "${holdId}") { __typename } }`);
      expect(unauthenticated.extensions?.code).toBe('UNAUTHENTICATED');
      const deep = await wsError(client, REFUSED[0]?.[1] ?? '');
      expect(deep.extensions?.code).toBe('QUERY_TOO_DEEP');
      const bomb = `{ events(first: 100) { edges { node { tickets(first: 1000) { edges { node { id section row seat status version priceCents } } } } } } }`;
      const costly = await wsError(client, bomb);
      expect(costly.extensions?.code).toBe('QUERY_TOO_COMPLEX');
      for (const error of [unauthenticated, deep, costly]) expect(error.extensions).not.toHaveProperty('http');
    } finally {
      await client.dispose();
    }
  });
});
