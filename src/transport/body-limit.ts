import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

/**
 * Refuses request bodies over `maxBytes` before anything reads them: 413 when Content-Length says
 * so, and 411 for a chunked body (no length), which GraphQL clients never need to send.
 */
export function limitBodySize(handler: RequestListener, maxBytes: number): RequestListener {
  return (request: IncomingMessage, response: ServerResponse) => {
    const length = request.headers['content-length'];
    if (length !== undefined && Number(length) > maxBytes) {
      refuse(request, response, 413, `The request body is larger than ${maxBytes} bytes.`);
    } else if (length === undefined && request.headers['transfer-encoding'] !== undefined) {
      refuse(request, response, 411, 'Send the request body with a Content-Length.');
    } else {
      handler(request, response);
    }
  };
}

function refuse(request: IncomingMessage, response: ServerResponse, status: number, message: string): void {
  response.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
  response.end(JSON.stringify({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] }));
  request.resume();
}
