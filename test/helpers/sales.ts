import { createEvent, type NewEvent } from '../../src/catalog/events.js';
import { ticketGlobalId } from '../../src/graphql/global-id.js';
import type { TestApp } from './app.js';
import { tokenFor } from './app.js';

/** The multi-seat purchase as a client sends it. */
export const PURCHASE_MANY = /* GraphQL */ `
  mutation PurchaseMany($ticketIds: [ID!]!, $key: String) {
    purchaseTickets(input: { ticketIds: $ticketIds, idempotencyKey: $key }) {
      __typename
      ... on PurchaseTicketsSuccess { order { id totalCents tickets { id } } }
      ... on TicketsUnavailable { tickets { ticketId reason } }
      ... on SaleNotOpen { opensAt }
      ... on SaleClosed { closedAt }
      ... on PurchaseLimitReached { limit held }
      ... on Error { message }
    }
  }
`;

export interface ManyResult {
  __typename: string;
  order?: { id: string; totalCents: number; tickets: Array<{ id: string }> };
  tickets?: Array<{ ticketId: string; reason: string }>;
  opensAt?: string;
  closedAt?: string;
  limit?: number;
  held?: number;
  message?: string;
}

/** Buys `ticketIds` all-or-nothing as `sub`; throws on GraphQL errors. */
export async function purchaseMany(api: TestApp, sub: string, ticketIds: string[], key?: string): Promise<ManyResult> {
  const response = await api.gql<{ purchaseTickets: ManyResult }>(
    PURCHASE_MANY,
    { ticketIds, key },
    { token: await tokenFor(sub) },
  );
  if (response.errors || !response.data) throw new Error(`purchaseTickets failed: ${JSON.stringify(response.errors)}`);
  return response.data.purchaseTickets;
}

/** Creates an event with sale rules straight through the domain service; returns raw and global ids. */
export async function createRuledEvent(api: TestApp, rules: Partial<NewEvent> & { seats: number }) {
  const { seats, ...rest } = rules;
  const { eventId } = await createEvent(api.app.services.db, {
    name: 'Ruled Night',
    venue: 'Rule Hall',
    startsAt: new Date(Date.now() + 86_400_000),
    sections: [{ name: 'Main', rows: 1, seatsPerRow: seats, priceCents: 1000 }],
    ...rest,
  });
  const rows = await api.app.services.db.query.ticketsTable.findMany({
    where: (t, { eq }) => eq(t.eventId, eventId),
    orderBy: (t, { asc }) => asc(t.position),
  });
  return { eventId, ticketIds: rows.map((row) => ticketGlobalId(row)), rawTicketIds: rows.map((row) => row.id) };
}
