import { PURCHASE, tokenFor } from './app.js';

/** GETs an operations endpoint of a listening instance. */
export async function get(url: string, path: string) {
  const response = await fetch(new URL(path, url), { signal: AbortSignal.timeout(10_000) });
  return { status: response.status, text: await response.text() };
}

/** Buys over HTTP as a browser would, with the response's status and headers. */
export async function buyOverHttp(url: string, sub: string, ticketId: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await tokenFor(sub)}` },
    body: JSON.stringify({ query: PURCHASE, variables: { ticketId } }),
    // Bounded: a dependency outage must be answered, not hang.
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as {
    data?: { purchaseTicket: { __typename: string } };
    errors?: Array<{ extensions?: { code?: string } }>;
  };
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body };
}
