import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

/** Which browser origins may read answers: any (`'*'`) or the listed ones. Never with credentials. */
export type CorsOrigins = '*' | readonly string[];

/** How long a browser may reuse a preflight's answer (Chromium caps it at 2 h, Firefox at 24 h). */
export const CORS_MAX_AGE_SECONDS = 86_400;

const ALLOWED_METHODS = 'GET, POST, OPTIONS';
/** Headers a client may send cross-origin when the preflight names none. */
const DEFAULT_ALLOWED_HEADERS = 'authorization, content-type, accept, x-graphql-yoga-csrf';
/** Response headers scripts of an allowed origin may read besides the safelisted ones. */
const EXPOSED_HEADERS = 'retry-after';

/**
 * Puts CORS headers on every answer, whoever writes it (yoga, the body limit's 413 and 411, the drain's
 * 503, /ready), and answers preflights itself. `Access-Control-Allow-Credentials` is never sent: auth is
 * a bearer token a script sets, never a cookie, so no origin needs a browser's ambient credentials.
 * An origin not on the list gets no CORS headers: its scripts cannot read the answer.
 */
export function allowOrigins(handler: RequestListener, origins: CorsOrigins): RequestListener {
  const allowed = origins === '*' ? undefined : new Set(origins);
  return (request: IncomingMessage, response: ServerResponse) => {
    const origin = request.headers.origin;
    if (allowed) response.setHeader('vary', 'Origin');
    const permitted = origin !== undefined && (allowed === undefined || allowed.has(origin));
    if (permitted) {
      response.setHeader('access-control-allow-origin', allowed ? origin : '*');
      response.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
    }
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) {
      return preflight(request, response, permitted);
    }
    handler(request, response);
  };
}

function preflight(request: IncomingMessage, response: ServerResponse, permitted: boolean): void {
  if (permitted) {
    response.setHeader('access-control-allow-methods', ALLOWED_METHODS);
    // Without credentials, which headers a page sends protects nothing: allow what it asks for.
    response.setHeader(
      'access-control-allow-headers',
      request.headers['access-control-request-headers'] ?? DEFAULT_ALLOWED_HEADERS,
    );
    response.setHeader('access-control-max-age', String(CORS_MAX_AGE_SECONDS));
  }
  response.writeHead(204, { 'content-length': '0' });
  response.end();
  request.resume();
}
