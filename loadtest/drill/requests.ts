import type { Pool } from 'undici';
import type { OpKind, Outcome } from './history.js';

const ORDER = 'order { id tickets { id } }';
const HOLD = 'hold { id expiresAt tickets { id } }';

/** The drill's mutations: each asks for the ids a checker needs (the order or hold, and its seats). */
const MUTATIONS: Record<OpKind, string> = {
  purchase: `mutation Buy($ticketId: ID!, $key: String!) { r: purchaseTicket(input: { ticketId: $ticketId, idempotencyKey: $key }) { __typename ... on PurchaseTicketSuccess { ${ORDER} } ... on TicketUnavailable { reason } ... on Error { message } } }`,
  'purchase-many': `mutation BuyMany($ticketIds: [ID!]!, $key: String!) { r: purchaseTickets(input: { ticketIds: $ticketIds, idempotencyKey: $key }) { __typename ... on PurchaseTicketsSuccess { ${ORDER} } ... on TicketsUnavailable { tickets { ticketId reason } } ... on Error { message } } }`,
  hold: `mutation Hold($ticketIds: [ID!]!, $key: String!) { r: holdSeats(input: { ticketIds: $ticketIds, idempotencyKey: $key }) { __typename ... on HoldSeatsSuccess { ${HOLD} } ... on TicketsUnavailable { tickets { ticketId reason } } ... on Error { message } } }`,
  checkout: `mutation Pay($holdId: ID!, $key: String!) { r: checkout(input: { holdId: $holdId, idempotencyKey: $key }) { __typename ... on CheckoutSuccess { ${ORDER} } ... on Error { message } } }`,
  release: `mutation Release($holdId: ID!) { r: releaseHold(holdId: $holdId) { __typename ... on ReleaseHoldSuccess { hold { id status } } ... on Error { message } } }`,
};

const SUCCESS = new Set(['PurchaseTicketSuccess', 'PurchaseTicketsSuccess', 'HoldSeatsSuccess', 'CheckoutSuccess']);

/** The request body of one attempt. */
export function bodyOf(kind: OpKind, seats: readonly string[], key: string | null, holdId?: string): string {
  const variables =
    kind === 'purchase'
      ? { ticketId: seats[0], key }
      : kind === 'checkout'
        ? { holdId, key }
        : kind === 'release'
          ? { holdId }
          : { ticketIds: seats, key };
  return JSON.stringify({ query: MUTATIONS[kind], variables });
}

interface Result {
  __typename?: string;
  reason?: string;
  order?: { id?: string; tickets?: Array<{ id?: string }> };
  hold?: { id?: string; tickets?: Array<{ id?: string }> };
  tickets?: Array<{ ticketId?: string; reason?: string }>;
}

/** An answer's outcome, and the seats a refusal named SOLD or HELD (what buyers learn from). */
export interface Reply {
  outcome: Outcome;
  soldSeats: string[];
  heldSeats: string[];
}

/** An answer's outcome, and what its refusal says of the seats (see {@link Reply}). */
export function classifyReply(statusCode: number, text: string): Reply {
  const unknown = (error: string): Reply => ({ outcome: { type: 'unknown', error }, soldSeats: [], heldSeats: [] });
  let reply: { data?: { r?: Result } | null; errors?: Array<{ extensions?: { code?: string } }> };
  try {
    reply = JSON.parse(text);
  } catch {
    return unknown(`HTTP ${statusCode} non-JSON`);
  }
  const first = reply.errors?.[0];
  if (first) return unknown(`GraphQL ${first.extensions?.code ?? 'error'}`);
  if (statusCode !== 200) return unknown(`HTTP ${statusCode}`);
  const result = reply.data?.r;
  const typename = result?.__typename;
  if (!result || !typename) return unknown('empty result');
  if (SUCCESS.has(typename)) {
    const made = result.order ?? result.hold;
    const seats = (made?.tickets ?? []).map((t) => t.id ?? '').sort();
    return {
      outcome: {
        type: 'ok',
        typename,
        ...(result.order?.id ? { orderId: result.order.id } : {}),
        ...(result.hold?.id ? { holdId: result.hold.id } : {}),
        seats,
      },
      soldSeats: [],
      heldSeats: [],
    };
  }
  if (typename === 'ReleaseHoldSuccess') return { outcome: { type: 'ok', typename }, soldSeats: [], heldSeats: [] };
  const named = result.tickets ?? [];
  const reason = result.reason ?? ([...new Set(named.map((t) => t.reason ?? ''))].sort().join('+') || undefined);
  const seatsWhy = (why: string) => named.filter((t) => t.reason === why).map((t) => t.ticketId ?? '');
  return {
    outcome: { type: 'refused', typename, ...(reason ? { reason } : {}) },
    soldSeats: seatsWhy('SOLD'),
    heldSeats: seatsWhy('HELD'),
  };
}

/**
 * Sends one attempt and classifies what came back. No answer within `timeoutMs`, or a connection that
 * fails, is an unknown outcome named after its error code.
 */
export async function send(pool: Pool, authorization: string, body: string, timeoutMs: number): Promise<Reply> {
  try {
    const response = await pool.request({
      path: '/graphql',
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return classifyReply(response.statusCode, await response.body.text());
  } catch (error) {
    const { code, name } = error as { code?: string; name?: string };
    const timedOut = name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
    const named = timedOut ? 'timeout' : (code ?? name ?? 'Error');
    return { outcome: { type: 'unknown', error: named }, soldSeats: [], heldSeats: [] };
  }
}
