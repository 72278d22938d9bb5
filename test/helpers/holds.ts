import { sql } from 'drizzle-orm';
import { decodeGlobalId } from '../../src/graphql/global-id.js';
import { type TestApp, tokenFor } from './app.js';
import { rows } from './sql.js';

/** Short holds and a quick sweeper, so expiry happens within a test. */
export const SHORT_HOLDS = { HOLD_TTL_MS: '1500', HOLD_SWEEP_MS: '50' };

export const HOLD = /* GraphQL */ `
  mutation Hold($ticketIds: [ID!]!, $key: String) {
    holdSeats(input: { ticketIds: $ticketIds, idempotencyKey: $key }) {
      __typename
      ... on HoldSeatsSuccess { hold { id status totalCents expiresAt expiresInSeconds tickets { id status } } }
      ... on TicketsUnavailable { tickets { ticketId reason } }
      ... on PurchaseLimitReached { limit held }
      ... on Error { message }
    }
  }
`;

export const CHECKOUT = /* GraphQL */ `
  mutation Checkout($holdId: ID!, $key: String) {
    checkout(input: { holdId: $holdId, idempotencyKey: $key }) {
      __typename
      ... on CheckoutSuccess { order { id totalCents tickets { id status } } }
      ... on HoldExpired { holdId expiredAt }
      ... on Error { message }
    }
  }
`;

export const RELEASE = /* GraphQL */ `
  mutation Release($holdId: ID!) {
    releaseHold(holdId: $holdId) {
      __typename
      ... on ReleaseHoldSuccess { hold { id status tickets { id status } } }
      ... on Error { message }
    }
  }
`;

export interface HoldMember {
  __typename: string;
  hold?: {
    id: string;
    status: string;
    totalCents: number;
    expiresAt: string;
    expiresInSeconds: number;
    tickets: Array<{ id: string; status: string }>;
  };
  tickets?: Array<{ ticketId: string; reason: string }>;
  limit?: number;
  held?: number;
  message?: string;
}

export interface CheckoutMember {
  __typename: string;
  order?: { id: string; totalCents: number; tickets: Array<{ id: string; status: string }> };
  holdId?: string;
  message?: string;
}

/** Holds seats as `sub` over the API; throws on GraphQL errors. */
export async function hold(api: TestApp, sub: string, ticketIds: string[], key?: string): Promise<HoldMember> {
  const response = await api.gql<{ holdSeats: HoldMember }>(HOLD, { ticketIds, key }, { token: await tokenFor(sub) });
  if (!response.data) throw new Error(`holdSeats failed: ${JSON.stringify(response.errors)}`);
  return response.data.holdSeats;
}

/** Checks a hold out as `sub` over the API; throws on GraphQL errors. */
export async function checkout(api: TestApp, sub: string, holdId: string, key?: string): Promise<CheckoutMember> {
  const response = await api.gql<{ checkout: CheckoutMember }>(
    CHECKOUT,
    { holdId, key },
    { token: await tokenFor(sub) },
  );
  if (!response.data) throw new Error(`checkout failed: ${JSON.stringify(response.errors)}`);
  return response.data.checkout;
}

/** A ticket's status and hold in the database. */
export async function seat(api: TestApp, globalTicketId: string) {
  const ticketId = decodeGlobalId(globalTicketId).id.split('/')[1] as string;
  const [row] = await rows<{ status: string; hold_id: string | null }>(
    api.app.services.db,
    sql`select status, hold_id from tickets where id = ${ticketId}`,
  );
  return row as { status: string; hold_id: string | null };
}
