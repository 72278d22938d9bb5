import { describe, expect } from 'vitest';
import { PURCHASE, tokenFor } from './helpers/app.js';
import type { TestDatabase } from './helpers/database.js';
import { createEventWithTickets } from './helpers/events.js';
import { integrationTest } from './helpers/fixtures.js';

const railed = integrationTest({
  app: { env: { PURCHASE_RATE_LIMIT: '3', PURCHASE_RATE_WINDOW_SECONDS: '60', MAX_BODY_BYTES: '20000' } },
});
const production = integrationTest({
  app: { env: { NODE_ENV: 'production', CORS_ORIGINS: 'https://tickets.example' } },
});

const orders = async (database: TestDatabase) =>
  (await database.sql<{ n: number }[]>`select count(*)::int as n from orders`)[0]?.n;

describe('safety rails', () => {
  const it = railed;

  it('refuses an alias bomb and a 50-deep query with a clear error, before resolving anything', async ({ api }) => {
    const before = api.queries();
    const aliases = Array.from({ length: 200 }, (_, i) => `a${i}: events(first: 1) { pageInfo { hasNextPage } }`);
    const bomb = await api.gql(`{ ${aliases.join(' ')} }`);
    expect(bomb.errors?.[0]?.message).toMatch(/alias/i);

    const nest = (levels: number) => {
      let selection = 'id';
      for (let i = 0; i < levels; i++) selection = `event { tickets(first: 1) { edges { node { ${selection} } } } }`;
      return `query($id: ID!) { node(id: $id) { ... on Ticket { ${selection} } } }`;
    };
    // 50 levels: its cost grows with depth, so the cost rule or the depth rule refuses it.
    const fifty = await api.gql(nest(12), { id: 'x' });
    expect(fifty.errors?.[0]?.message).toMatch(/depth|cost/i);
    // 14 levels: cheap enough for the cost rule, too deep for the depth rule.
    const fourteen = await api.gql(nest(3), { id: 'x' });
    expect(fourteen.errors?.[0]?.message).toMatch(/depth limit of 12/i);
    expect(api.queries()).toBe(before);
  });

  it('refuses a body over MAX_BODY_BYTES with 413, and a chunked body with 411', async ({ api }) => {
    const url = await api.listen();
    const big = JSON.stringify({ query: `{ __typename } # ${'x'.repeat(30_000)}` });
    const tooBig = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    expect(tooBig.status).toBe(413);
    const chunked = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new Blob(['{"query":"{ __typename }"}']).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(411);
  });

  it('serves a plain GET query, refuses a mutation over GET and a form-like POST, each with a code', async ({
    api,
  }) => {
    const url = await api.listen();
    const read = await fetch(`${url}?query=${encodeURIComponent('{ __typename }')}`);
    expect(read.status).toBe(200);
    const write = await fetch(
      `${url}?query=${encodeURIComponent('mutation { openSale(eventId: "x") { __typename } }')}`,
    );
    expect(write.status).toBe(405);
    expect(
      ((await write.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]?.extensions.code,
    ).toBe('BAD_REQUEST');
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', undefined]) {
      const form = await fetch(url, {
        method: 'POST',
        headers: type ? { 'content-type': type } : {},
        body: type ? '{"query":"{ __typename }"}' : undefined,
      });
      expect(form.status, String(type)).toBe(403);
      const body = (await form.json()) as { errors: Array<{ extensions: { code: string } }> };
      expect(body.errors[0]?.extensions.code).toBe('CSRF_REFUSED');
    }
  });

  it('rate-limits one customer’s purchase attempts with RATE_LIMITED and Retry-After, costing Postgres nothing', async ({
    api,
    database,
  }) => {
    const url = await api.listen();
    const { ticketGlobalIds } = await createEventWithTickets(api, { seats: 5 });
    const token = await tokenFor('hammer');
    for (const id of ticketGlobalIds.slice(0, 3)) {
      const ok = await api.gql<{ purchaseTicket: { __typename: string } }>(PURCHASE, { ticketId: id }, { token });
      expect(ok.data?.purchaseTicket.__typename).toBe('PurchaseTicketSuccess');
    }
    const before = { queries: api.queries(), orders: await orders(database) };
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: PURCHASE, variables: { ticketId: ticketGlobalIds[3] } }),
    });
    const body = (await response.json()) as {
      errors: Array<{ extensions: { code: string; retryAfterSeconds: number } }>;
    };
    expect(body.errors[0]?.extensions.code).toBe('RATE_LIMITED');
    expect(body.errors[0]?.extensions.retryAfterSeconds).toBeGreaterThan(0);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(api.queries()).toBe(before.queries);
    expect(await orders(database)).toBe(before.orders);
    // Another customer is not affected.
    const other = await api.gql<{ purchaseTicket: { __typename: string } }>(
      PURCHASE,
      { ticketId: ticketGlobalIds[3] },
      { token: await tokenFor('patient-one') },
    );
    expect(other.data?.purchaseTicket.__typename).toBe('PurchaseTicketSuccess');
  });
});

describe('production mode', () => {
  const it = production;

  it('has no introspection and no GraphiQL, and masks unexpected errors', async ({ api }) => {
    const introspection = await api.gql('{ __schema { types { name } } }');
    expect(introspection.errors?.[0]?.message).toMatch(/introspection/i);
    const page = await api.app.yoga.fetch('http://flux.test/graphql', { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toMatch(/graphiql/i);
    const typo = await api.gql('{ evnts { edges { cursor } } }');
    expect(typo.errors?.[0]?.message).not.toMatch(/Did you mean/);
  });
});
