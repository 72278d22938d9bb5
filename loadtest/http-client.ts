import { Pool } from 'undici';
import { assertLoopback } from './services.js';
import type { Outcome } from './targets.js';

/**
 * Keep-alive connection pools to the API instances, one per instance. undici's Pool is Node's own
 * HTTP client without the fetch layer: it costs the generator a fraction of what `fetch` does per
 * request, and lets us fix the connection count.
 */
export interface Clients {
  pools: Pool[];
  close(): Promise<void>;
}

/** Opens `connections` keep-alive connections (at most) to each server URL. */
export function openClients(urls: string[], connections: number): Clients {
  const pools = urls.map((url) => {
    assertLoopback(url);
    return new Pool(new URL(url).origin, {
      connections,
      pipelining: 1,
      keepAliveTimeout: 60_000,
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
  });
  return { pools, close: async () => void (await Promise.all(pools.map((p) => p.close()))) };
}

interface PurchaseResult {
  __typename?: string;
  reason?: string;
  order?: { id?: string };
  hold?: { id?: string; expiresAt?: string };
  tickets?: Array<{ ticketId?: string; reason?: string }>;
}

interface GraphQLReply {
  data?: {
    purchaseTicket?: PurchaseResult;
    purchaseTickets?: PurchaseResult;
    holdSeats?: PurchaseResult;
    holdBestAvailable?: PurchaseResult;
  } | null;
  errors?: Array<{ message?: string; extensions?: { code?: string } }>;
}

/**
 * A multi-seat answer (or a hold's): the order (the hold), or a refusal counted by `__typename`
 * (TicketsUnavailable also by the distinct reasons it named, e.g. `TicketsUnavailable:LOCKED+SOLD`)
 * carrying the seats it named.
 */
function classifyGroup(result: PurchaseResult): Outcome {
  switch (result.__typename) {
    case undefined:
      return { kind: 'error', error: 'unexpected empty result' };
    case 'PurchaseTicketsSuccess':
      return { kind: 'win', orderId: result.order?.id };
    case 'HoldSeatsSuccess':
    case 'HoldBestAvailableSuccess':
      return { kind: 'win', hold: { id: result.hold?.id ?? '', expiresAt: result.hold?.expiresAt ?? '' } };
    case 'TicketsUnavailable': {
      const unavailable = (result.tickets ?? []).map((t) => ({ ticketId: t.ticketId ?? '', reason: t.reason ?? '' }));
      const reasons = [...new Set(unavailable.map((t) => t.reason))].sort().join('+');
      return { kind: 'reject', reason: `TicketsUnavailable:${reasons || 'none named'}`, unavailable };
    }
    default:
      // NotFound, PurchaseLimitReached, SaleNotOpen, SaleClosed, InvalidInput: the union's expected failures.
      return { kind: 'reject', reason: result.__typename };
  }
}

/** Classifies a purchase (or hold) reply: a win, an expected refusal (by reason), or an error (by kind). */
export function classify(statusCode: number, text: string): Outcome {
  let reply: GraphQLReply;
  try {
    reply = JSON.parse(text) as GraphQLReply;
  } catch {
    return { kind: 'error', error: `HTTP ${statusCode} non-JSON` };
  }
  const first = reply.errors?.[0];
  if (first) return { kind: 'error', error: `GraphQL ${first.extensions?.code ?? first.message ?? 'error'}` };
  if (statusCode !== 200) return { kind: 'error', error: `HTTP ${statusCode}` };
  const group = reply.data?.purchaseTickets ?? reply.data?.holdSeats ?? reply.data?.holdBestAvailable;
  if (group) return classifyGroup(group);
  const result = reply.data?.purchaseTicket;
  switch (result?.__typename) {
    case 'PurchaseTicketSuccess':
      return { kind: 'win' };
    case 'TicketUnavailable':
      return { kind: 'reject', reason: result.reason ?? 'UNKNOWN' };
    case 'NotFound':
      return { kind: 'reject', reason: 'NOT_FOUND' };
    default:
      return { kind: 'error', error: `unexpected ${result?.__typename ?? 'empty'} result` };
  }
}

/** Sends one purchase and resolves with its outcome; transport failures are outcomes too. */
export async function sendPurchase(pool: Pool, authorization: string, body: string): Promise<Outcome> {
  try {
    const response = await pool.request({
      path: '/graphql',
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body,
    });
    return classify(response.statusCode, await response.body.text());
  } catch (error) {
    const code = (error as { code?: string }).code;
    return { kind: 'error', error: code ?? (error as Error).name ?? 'Error' };
  }
}
