import type { NewEvent } from '../../src/catalog/events.js';
import { type TestApp, tokenFor } from './app.js';
import { createEventWithTickets } from './events.js';

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

/**
 * @deprecated Use {@link createEventWithTickets}, which names both forms of every id. This one
 * answers the database id under `eventId` but GraphQL ids under `ticketIds`; it stays for
 * test/holds.test.ts until that file moves over.
 */
export async function createRuledEvent(api: TestApp, rules: Partial<NewEvent> & { seats: number }) {
  const { eventId, ticketIds, ticketGlobalIds } = await createEventWithTickets(api, { priceCents: 1000, ...rules });
  return { eventId, ticketIds: ticketGlobalIds, rawTicketIds: ticketIds };
}
