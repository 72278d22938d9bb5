import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';

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
  /** Resolves once no request is in flight, or after `timeoutMs`; with how many were still running. */
  idle(timeoutMs: number): Promise<number>;
}

/**
 * Serves `/health` (the process is alive: always 200), `/ready` (200 only while Postgres and Redis
 * answer, the migrations are applied and the server is not draining; else 503 with each check) and
 * `/metrics` (Prometheus text, when a registry is given), and counts requests in flight for a drain.
 */
export function createOpsGate(handler: RequestListener, options: OpsOptions): OpsGate {
  let draining = false;
  let inFlight = 0;
  let wake: (() => void) | undefined;
  const done = () => {
    inFlight--;
    if (inFlight === 0) wake?.();
  };

  const listener: RequestListener = (request, response) => {
    const path = request.url?.split('?')[0];
    if (path === '/health') return json(response, 200, { status: 'ok' });
    if (path === '/ready') return void ready(response);
    if (path === '/metrics' && options.registry) return void metrics(response, options.registry);
    if (draining) return refuse(request, response);
    inFlight++;
    response.once('close', done);
    handler(request, response);
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
    async idle(timeoutMs) {
      if (inFlight === 0) return 0;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      return inFlight;
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

/** A request that arrives while the server drains: retry elsewhere (the balancer has seen /ready fail). */
function refuse(request: IncomingMessage, response: ServerResponse) {
  response.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1', connection: 'close' });
  response.end(
    JSON.stringify({
      errors: [
        {
          message: 'This instance is shutting down; retry the request.',
          extensions: { code: 'SERVICE_UNAVAILABLE' },
        },
      ],
    }),
  );
  request.resume();
}
