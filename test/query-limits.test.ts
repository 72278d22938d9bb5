import { describe, expect } from 'vitest';
import { loadConfig } from '../src/config.js';
import { QUERY_TOO_COMPLEX } from '../src/graphql/query-cost.js';
import { createEventWithTickets } from './helpers/events.js';
import { integrationTest } from './helpers/fixtures.js';
import { wsClient } from './helpers/live.js';
import { BOMB, fragmentBomb, LITERAL_BOMB, SEAT_PAGE } from './helpers/query-bombs.js';

const DEFAULT_MAX_COST = loadConfig({}).maxQueryCost;

/** An app on Postgres and Redis, and a 1,000-seat venue (ten rows of 100). */
const it = integrationTest().extend('venue', { scope: 'file' }, ({ api }) =>
  createEventWithTickets(api, {
    seats: 1000,
    sections: [{ name: 'Stalls', rows: 10, seatsPerRow: 100, priceCents: 4000 }],
  }),
);

describe('bounded work per request', () => {
  it('refuses the bomb with QUERY_TOO_COMPLEX and HTTP 400 before anything runs, whatever carries the page sizes', async ({
    api,
    venue,
  }) => {
    const before = api.queries();
    const viaVariables = await api.gql(BOMB, { e: venue.eventGlobalId, n: 250, m: 1000 });
    expect(viaVariables.status).toBe(400);
    expect(viaVariables.data).toBeUndefined();
    expect(viaVariables.errors).toHaveLength(1);
    expect(viaVariables.errors?.[0]?.extensions).toMatchObject({ code: QUERY_TOO_COMPLEX, maxCost: DEFAULT_MAX_COST });
    expect(viaVariables.errors?.[0]?.message).toMatch(/first\/last/);

    // No page sizes at all: each connection counts at its default page (100 seats), still too many.
    const byDefault = await api.gql(BOMB, { e: venue.eventGlobalId });
    expect(byDefault.errors?.[0]?.extensions?.code).toBe(QUERY_TOO_COMPLEX);
    // Literal sizes are refused by the same rule.
    const literal = await api.gql(LITERAL_BOMB, { e: venue.eventGlobalId });
    expect(literal.errors?.[0]?.extensions?.code).toBe(QUERY_TOO_COMPLEX);
    expect(api.queries()).toBe(before);
  });

  it('refuses fragments spread into fragments, too many to evaluate, with the same code and no statement', async ({
    api,
    venue,
  }) => {
    const before = api.queries();
    for (const n of [1, 2]) {
      const refused = await api.gql(fragmentBomb(), { e: venue.eventGlobalId, n });
      expect(refused.status).toBe(400);
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: QUERY_TOO_COMPLEX, cost: null });
    }
    expect(api.queries()).toBe(before);
  });

  it('serves a whole 1,000-seat page with every seat field, and small pages of the bomb’s shape', async ({
    api,
    venue,
  }) => {
    const page = await api.gql<{ event: { tickets: { edges: unknown[]; pageInfo: { hasNextPage: boolean } } } }>(
      SEAT_PAGE,
      { e: venue.eventGlobalId },
    );
    expect(page.status).toBe(200);
    expect(page.errors).toBeUndefined();
    expect(page.data?.event.tickets.edges).toHaveLength(1000);
    expect(page.data?.event.tickets.pageInfo.hasNextPage).toBe(false);

    const small = await api.gql(BOMB, { e: venue.eventGlobalId, n: 5, m: 5 });
    expect(small.errors).toBeUndefined();
  });

  it('refuses the bomb over graphql-ws too, with the same code, and nothing runs', async ({ api, venue }) => {
    const client = wsClient(await api.listen());
    const before = api.queries();
    try {
      const result = await new Promise<{ errors?: ReadonlyArray<{ extensions?: Record<string, unknown> }> }>(
        (resolve, reject) => {
          client.subscribe(
            { query: BOMB, variables: { e: venue.eventGlobalId, n: 250, m: 1000 } },
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
