import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Registry } from 'prom-client';

/** How often a drain looks whether the server has gone quiet. */
const IDLE_POLL_MS = 20;

/** The state of each dependency: `ok`, or why not. */
export type Checks = Record<string, string>;

/** What the operations endpoints need from the app. */
export interface OpsOptions {
  /** Postgres, Redis and the migrations, each `ok` or a reason. */
  checks(): Promise<Checks>;
  /** Served at /metrics when given. */
  registry?: Registry | undefined;
}

/** The HTTP server's request listener with the operations endpoints and the drain gate in front. */
export interface OpsGate {
  listener: RequestListener;
  /** From now on /ready answers 503 and every new request gets 503 SERVICE_UNAVAILABLE. */
  drain(): void;
  readonly draining: boolean;
  /**
   * Resolves once no request is in flight and none has arrived for `quietMs` (clients have seen the
   * 503s and gone elsewhere), or after `timeoutMs`; with how many requests were still running.
   */
  idle(timeoutMs: number, quietMs: number): Promise<number>;
}

/**
 * Serves `/health` (the process is alive: always 200), `/ready` (200 only while Postgres and Redis
 * answer, the migrations are applied and the server is not draining; else 503 with each check) and
 * `/metrics` (Prometheus text, when a registry is given), and counts requests in flight for a drain.
 */
export function createOpsGate(handler: RequestListener, options: OpsOptions): OpsGate {
  let draining = false;
  let inFlight = 0;
  let lastArrival = 0;
  const done = () => {
    inFlight--;
  };

  const listener: RequestListener = (request, response) => {
    const path = request.url?.split('?')[0];
    if (path === '/health') return json(response, 200, { status: 'ok' });
    if (path === '/ready') return void ready(response);
    if (path === '/metrics' && options.registry) return void metrics(response, options.registry);
    // A refusal counts as in flight too: its connection must not be cut before it is answered.
    inFlight++;
    lastArrival = performance.now();
    response.once('close', done);
    if (draining) refuse(request, response);
    else handler(request, response);
  };

  const ready = async (response: ServerResponse) => {
    if (draining) return json(response, 503, { status: 'draining' });
    const checks = await options.checks();
    const ok = Object.values(checks).every((state) => state === 'ok');
    json(response, ok ? 200 : 503, { status: ok ? 'ready' : 'not ready', checks });
  };

  return {
    listener,
    drain() {
      draining = true;
    },
    get draining() {
      return draining;
    },
    async idle(timeoutMs, quietMs) {
      const deadline = performance.now() + timeoutMs;
      while (inFlight > 0 || performance.now() - lastArrival < quietMs) {
        if (performance.now() >= deadline) return inFlight;
        await sleep(IDLE_POLL_MS);
      }
      return 0;
    },
  };
}

async function metrics(response: ServerResponse, registry: Registry) {
  const text = await registry.metrics();
  response.writeHead(200, { 'content-type': registry.contentType });
  response.end(text);
}

function json(response: ServerResponse, status: number, body: unknown) {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}

/**
 * A request that arrives while the server drains: retry elsewhere (the balancer has seen /ready fail).
 * The body is read to its end first: closing a socket with unread data resets it, and the client would
 * get a reset connection instead of this answer.
 */
function refuse(request: IncomingMessage, response: ServerResponse) {
  request.once('end', () => {
    response.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1', connection: 'close' });
    response.end(DRAINING_BODY);
  });
  request.resume();
}

const DRAINING_BODY = JSON.stringify({
  errors: [
    { message: 'This instance is shutting down; retry the request.', extensions: { code: 'SERVICE_UNAVAILABLE' } },
  ],
});
