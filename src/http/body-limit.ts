import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

/**
 * Refuses request bodies over `maxBytes` before anything reads them: 413 when Content-Length says
 * so, and 411 for a chunked body (no length), which GraphQL clients never need to send.
 */
export function limitBodySize(handler: RequestListener, maxBytes: number): RequestListener {
  return (request: IncomingMessage, response: ServerResponse) => {
    const refuse = (status: number, message: string) => {
      response.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
      response.end(JSON.stringify({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] }));
      request.resume();
    };
    const length = request.headers['content-length'];
    if (length !== undefined && Number(length) > maxBytes) {
      refuse(413, `The request body is larger than ${maxBytes} bytes.`);
      return;
    }
    if (length === undefined && request.headers['transfer-encoding'] !== undefined) {
      refuse(411, 'Send the request body with a Content-Length.');
      return;
    }
    handler(request, response);
  };
}
