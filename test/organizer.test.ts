import { describe, expect } from 'vitest';
import { encodeGlobalId } from '../src/graphql/global-id.js';
import { tokenFor } from './helpers/app.js';
import type { TestDatabase } from './helpers/database.js';
import { test } from './helpers/fixtures.js';

/** An organizer's token. */
const it = test.extend('organizer', () => tokenFor('org-1', { role: 'organizer' }));

const CREATE = /* GraphQL */ `
  mutation Create($input: CreateEventInput!) {
    createEvent(input: $input) {
      __typename
      ... on CreateEventSuccess { event { id name perCustomerLimit onSale availability { total available } } }
      ... on InvalidInput { message problems { path message } }
    }
  }
`;

const layout = (sections: unknown[]) => ({
  name: 'Organizer Gala',
  venue: 'Big Arena',
  startsAt: '2031-05-01T19:00:00.000Z',
  perCustomerLimit: 6,
  sections,
});

const eventCount = async (database: TestDatabase) =>
  (await database.sql<{ n: number }[]>`select count(*)::int as n from events`)[0]?.n;

describe('the organizer API', () => {
  it('refuses createEvent, openSale and closeSale to customers and anonymous callers, writing nothing', async ({
    api,
    database,
  }) => {
    const before = await eventCount(database);
    const input = layout([{ name: 'A', rows: 1, seatsPerRow: 1, priceCents: 1 }]);
    const someEvent = encodeGlobalId('Event', '00000000-0000-4000-8000-000000000009');
    for (const [token, code] of [
      [await tokenFor('just-a-fan'), 'FORBIDDEN'],
      [undefined, 'UNAUTHENTICATED'],
    ] as const) {
      const created = await api.gql(CREATE, { input }, { token });
      expect(created.errors?.[0]?.extensions?.code).toBe(code);
      for (const field of ['openSale', 'closeSale']) {
        const response = await api.gql(
          `mutation($id: ID!) { ${field}(eventId: $id) { __typename } }`,
          { id: someEvent },
          { token },
        );
        expect(response.errors?.[0]?.extensions?.code).toBe(code);
      }
    }
    expect(await eventCount(database)).toBe(before);
  });

  it('answers a bad layout with every problem at once, as InvalidInput, and writes nothing', async ({
    api,
    database,
    organizer,
  }) => {
    const before = await eventCount(database);
    const response = await api.gql<{ createEvent: { __typename: string; problems: Array<{ path: string }> } }>(
      CREATE,
      {
        input: layout([
          { name: 'Stalls', rows: 0, seatsPerRow: -1, priceCents: -5 },
          { name: ' stalls ', rows: 500, seatsPerRow: 100_000, priceCents: 1 },
        ]),
      },
      { token: organizer },
    );
    expect(response.data?.createEvent.__typename).toBe('InvalidInput');
    expect(response.data?.createEvent.problems.map((p) => p.path)).toEqual(
      expect.arrayContaining([
        'sections.0.rows',
        'sections.0.seatsPerRow',
        'sections.0.priceCents',
        'sections.1.name',
        'sections.1.rows',
        'sections.1.seatsPerRow',
      ]),
    );
    expect(await eventCount(database)).toBe(before);
  });

  it('lays out a 20,000-seat venue in one call, and opens and closes its sale', async ({ api, organizer }) => {
    const sections = ['North', 'East', 'South', 'West'].map((name, i) => ({
      name,
      rows: 100,
      seatsPerRow: 50,
      priceCents: 2000 + i * 500,
    }));
    const started = performance.now();
    const response = await api.gql<{
      createEvent: { event: { id: string; perCustomerLimit: number; availability: { total: number } } };
    }>(CREATE, { input: layout(sections) }, { token: organizer });
    console.log(`createEvent: 20,000 seats in ${Math.round(performance.now() - started)} ms`);
    expect(response.errors).toBeUndefined();
    const event = response.data?.createEvent.event;
    expect(event).toMatchObject({ perCustomerLimit: 6, availability: { total: 20_000 } });

    const toggle = async (field: 'openSale' | 'closeSale') =>
      api.gql<Record<string, { __typename: string; event?: { onSale: boolean } }>>(
        `mutation($id: ID!) { ${field}(eventId: $id) { __typename ... on ${field === 'openSale' ? 'OpenSaleSuccess' : 'CloseSaleSuccess'} { event { onSale } } } }`,
        { id: event?.id },
        { token: organizer },
      );
    expect((await toggle('closeSale')).data?.closeSale?.event?.onSale).toBe(false);
    expect((await toggle('openSale')).data?.openSale?.event?.onSale).toBe(true);
    const missing = await api.gql<{ openSale: { __typename: string } }>(
      'mutation($id: ID!) { openSale(eventId: $id) { __typename } }',
      { id: encodeGlobalId('Event', '00000000-0000-4000-8000-000000000009') },
      { token: organizer },
    );
    expect(missing.data?.openSale.__typename).toBe('NotFound');
  });
});
