import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { QUERY_TOO_COMPLEX, responseSize } from '../src/graphql/query-cost.js';
import { schema } from '../src/graphql/schema.js';
import { createTestEvent, startTestApp, type TestApp } from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { wsClient } from './helpers/live.js';

/** The issue's bomb: each of `n` seats asks for its event's first `m` seats again (49 MB at 250 × 1,000). */
const BOMB = /* GraphQL */ `
  query($e: ID!, $n: Int, $m: Int) {
    event(id: $e) { tickets(first: $n) { edges { node { event { tickets(first: $m) {
      edges { node { id section row seat status version } }
    } } } } } }
  }
`;

/** A seat map's page, as the README's gap-free recipe loads it, with every seat field. */
const SEAT_PAGE = /* GraphQL */ `
  query SeatPage($e: ID!, $after: String) {
    event(id: $e) {
      id name availability { available held sold total }
      tickets(first: 1000, after: $after) {
        edges { cursor node { id section row seat priceCents status version statusChangedAt } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`;

const DEFAULT_MAX_COST = loadConfig({}).maxQueryCost;

describe('bounded work per request', () => {
  let database: TestDatabase;
  let api: TestApp;
  let eventId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    api = await startTestApp({ kind: 'real', databaseUrl: database.url });
    const sections = [{ name: 'Stalls', rows: 10, seatsPerRow: 100, priceCents: 4000 }];
    ({ eventId } = await createTestEvent(api.app, { seats: 1000, sections }));
  });
  afterAll(async () => {
    await api?.stop();
    await database?.drop();
  });

  it('refuses the bomb with QUERY_TOO_COMPLEX and HTTP 400 before anything runs, whatever carries the page sizes', async () => {
    const before = api.queries();
    const viaVariables = await api.gql(BOMB, { e: eventId, n: 250, m: 1000 });
    expect(viaVariables.status).toBe(400);
    expect(viaVariables.data).toBeUndefined();
    expect(viaVariables.errors).toHaveLength(1);
    expect(viaVariables.errors?.[0]?.extensions).toMatchObject({ code: QUERY_TOO_COMPLEX, maxCost: DEFAULT_MAX_COST });
    expect(viaVariables.errors?.[0]?.message).toMatch(/first\/last/);

    // No page sizes at all: each connection counts at its default page (100 seats), still too many.
    const byDefault = await api.gql(BOMB, { e: eventId });
    expect(byDefault.errors?.[0]?.extensions?.code).toBe(QUERY_TOO_COMPLEX);
    // Literal sizes are refused by the same rule.
    const literalBomb = BOMB.replace('$n: Int, $m: Int', '')
      .replace('first: $n', 'first: 250')
      .replace('first: $m', 'first: 1000');
    const literal = await api.gql(literalBomb, { e: eventId });
    expect(literal.errors?.[0]?.extensions?.code).toBe(QUERY_TOO_COMPLEX);
    expect(api.queries()).toBe(before);
  });

  it('refuses fragments spread into fragments, too many to evaluate, with the same code and no statement', async () => {
    // Within the depth and token limits: each fragment spreads the one before it 60 times.
    const fragments = ['fragment F0 on Ticket { id section row seat status version }'];
    for (let k = 1; k <= 2; k++) fragments.push(`fragment F${k} on Ticket { ${`...F${k - 1} `.repeat(60)}}`);
    const query = `query($e: ID!, $n: Int) { event(id: $e) { tickets(first: $n) { edges { node { ...F2 } } } } }
      ${fragments.join('\n')}`;
    const before = api.queries();
    for (const n of [1, 2]) {
      const refused = await api.gql(query, { e: eventId, n });
      expect(refused.status).toBe(400);
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: QUERY_TOO_COMPLEX, cost: null });
    }
    expect(api.queries()).toBe(before);
  });

  it('serves a whole 1,000-seat page with every seat field, and small pages of the bomb’s shape', async () => {
    const page = await api.gql<{ event: { tickets: { edges: unknown[]; pageInfo: { hasNextPage: boolean } } } }>(
      SEAT_PAGE,
      { e: eventId },
    );
    expect(page.status).toBe(200);
    expect(page.errors).toBeUndefined();
    expect(page.data?.event.tickets.edges).toHaveLength(1000);
    expect(page.data?.event.tickets.pageInfo.hasNextPage).toBe(false);

    const small = await api.gql(BOMB, { e: eventId, n: 5, m: 5 });
    expect(small.errors).toBeUndefined();
  });

  it('refuses the bomb over graphql-ws too, with the same code, and nothing runs', async () => {
    const url = await api.listen();
    const client = wsClient(url);
    const before = api.queries();
    try {
      const result = await new Promise<{ errors?: ReadonlyArray<{ extensions?: Record<string, unknown> }> }>(
        (resolve, reject) => {
          client.subscribe(
            { query: BOMB, variables: { e: eventId, n: 250, m: 1000 } },
            { next: resolve, error: reject, complete: () => {} },
          );
        },
      );
      expect(result.errors?.[0]?.extensions?.code).toBe(QUERY_TOO_COMPLEX);
    } finally {
      await client.dispose();
    }
    expect(api.queries()).toBe(before);
  });
});

describe('the cost of what the README shows', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const blocks = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((match) => match[1] as string);
  // Any value of the right type: only Int and Boolean variables can change a cost.
  const variables = { ticketId: 'x', ticketIds: ['x'], holdId: 'x', eventId: 'x' };

  it.each(blocks.map((block) => [block.split('\n')[0], block]))('%s … is well within the limit', (_title, block) => {
    expect(responseSize(schema, parse(block as string), variables)).toBeLessThan(DEFAULT_MAX_COST / 10);
  });

  it('counts a seat-map page at its size, and the bomb at what it would return', () => {
    expect(responseSize(schema, parse(SEAT_PAGE), { e: 'x' })).toBeLessThan(DEFAULT_MAX_COST / 2);
    expect(responseSize(schema, parse(BOMB), { e: 'x', n: 250, m: 1000 })).toBeGreaterThan(250 * 1000 * 7);
    // first/last are clamped to the connection's largest page, as its resolver clamps them.
    expect(responseSize(schema, parse(BOMB), { e: 'x', n: 1, m: 1_000_000 })).toBe(
      responseSize(schema, parse(BOMB), { e: 'x', n: 1, m: 1000 }),
    );
  });
});
