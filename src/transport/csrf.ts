import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

/** The media types an HTML form (or a no-preflight `fetch`) can send cross-site. */
const FORM_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);

/** Headers that no simple request carries: any of them makes a browser ask first (a preflight). */
const PREFLIGHT_HEADERS = ['authorization', 'x-graphql-yoga-csrf', 'graphql-preflight', 'apollo-require-preflight'];

/**
 * CSRF protection for an API whose only credential is a bearer token. A forged cross-site request
 * carries no token, since a browser adds none by itself, so it could only act anonymously; this keeps
 * even that from happening to state. Reads and SSE subscriptions may be plain GETs (yoga runs no
 * mutation over GET: 405), so urql's default GET, curl and a browser's `EventSource` work. A POST must
 * be something a form cannot send: a non-form content type (application/json), or a header that makes
 * the browser send a preflight, which CORS_ORIGINS then decides. Anything else is 403 `CSRF_REFUSED`.
 */
export function refuseCrossSiteForms(handler: RequestListener): RequestListener {
  return (request: IncomingMessage, response: ServerResponse) => {
    if (request.method === 'POST' && looksLikeAForm(request)) return refuse(request, response);
    handler(request, response);
  };
}

function looksLikeAForm(request: IncomingMessage): boolean {
  const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (type !== undefined && type !== '' && !FORM_TYPES.has(type)) return false;
  return !PREFLIGHT_HEADERS.some((name) => request.headers[name] !== undefined);
}

function refuse(request: IncomingMessage, response: ServerResponse): void {
  response.writeHead(403, { 'content-type': 'application/json' });
  response.end(REFUSAL);
  request.resume();
}

const REFUSAL = JSON.stringify({
  errors: [
    {
      message:
        'A POST must send Content-Type: application/json (or a header such as Authorization that makes a browser ask first).',
      extensions: { code: 'CSRF_REFUSED' },
    },
  ],
});
