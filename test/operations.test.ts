import { request as httpRequest } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestEvent,
  PURCHASE,
  purchase,
  startTestApp,
  type TestApp,
  tokenFor,
  uniqueRedisPrefix,
} from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { expectSaleInvariants } from './helpers/invariants.js';
import { wsClient } from './helpers/live.js';
import { signalGroup, startServer } from './helpers/process.js';
import { type OwnRedis, startOwnRedis } from './helpers/redis-server.js';
import { TEST_JWT_SECRET, TEST_REDIS_URL } from './helpers/services.js';

/** GETs an operations endpoint of a listening instance. */
async function get(url: string, path: string) {
  const response = await fetch(new URL(path, url), { signal: AbortSignal.timeout(10_000) });
  return { status: response.status, text: await response.text() };
}

/** Buys over HTTP as a browser would, with the response's status and headers. */
async function buyOverHttp(url: string, sub: string, ticketId: string) {
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

describe('health, readiness and metrics', () => {
  let database: TestDatabase;
  let api: TestApp;
  let url: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    api = await startTestApp({ kind: 'real', databaseUrl: database.url, env: { METRICS: 'true' } });
    url = await api.listen();
  });
  afterAll(async () => {
    await api?.stop();
    await database?.drop();
  });

  it('answers /health and /ready, and counts purchases by outcome and reason in /metrics', async () => {
    expect(await get(url, '/health')).toEqual({ status: 200, text: '{"status":"ok"}' });
    const ready = await get(url, '/ready');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.text)).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });

    const { ticketIds } = await createTestEvent(api.app, { seats: 1 });
    expect((await purchase(api, 'metered', ticketIds[0] as string)).__typename).toBe('PurchaseTicketSuccess');
    expect((await purchase(api, 'late', ticketIds[0] as string)).__typename).toBe('TicketUnavailable');
    const metrics = await get(url, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('flux_attempts_total{operation="purchase",outcome="ok",reason=""} 1');
    expect(metrics.text).toContain(
      'flux_attempts_total{operation="purchase",outcome="TicketUnavailable",reason="SOLD"} 1',
    );
    expect(metrics.text).toMatch(/flux_lock_seconds_count 2\b/);
    expect(metrics.text).toContain('flux_live_subscribers 0');
    expect(metrics.text).toContain('flux_live_messages_published_total 1');
    await expectSaleInvariants(api.app.services.db);
  });

  it('serves no /metrics when METRICS is off (the production default)', async () => {
    const quiet = await startTestApp({ kind: 'real', databaseUrl: database.url, env: { METRICS: 'false' } });
    try {
      const quietUrl = await quiet.listen();
      expect((await get(quietUrl, '/metrics')).status).toBe(404);
      expect((await get(quietUrl, '/health')).status).toBe(200);
    } finally {
      await quiet.stop();
    }
  });
});

describe('when Redis goes down and comes back (a redis-server of this test)', () => {
  let database: TestDatabase;
  let redis: OwnRedis;
  let api: TestApp;
  let url: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await startOwnRedis();
    api = await startTestApp({
      kind: 'real',
      databaseUrl: database.url,
      env: { REDIS_URL: redis.url, DEPENDENCY_TIMEOUT_MS: '1000' },
    });
    url = await api.listen();
  });
  afterAll(async () => {
    await api?.stop();
    await redis?.stop();
    await database?.drop();
  });

  it('answers SERVICE_UNAVAILABLE with Retry-After, turns unready, sells nothing twice, and recovers by itself', async () => {
    const { ticketIds } = await createTestEvent(api.app, { seats: 3 });
    expect((await buyOverHttp(url, 'before', ticketIds[0] as string)).body.data?.purchaseTicket.__typename).toBe(
      'PurchaseTicketSuccess',
    );

    await redis.kill();
    const started = Date.now();
    const down = await buyOverHttp(url, 'during', ticketIds[1] as string);
    console.log(`Redis down: a purchase was answered in ${Date.now() - started} ms`);
    expect(down.status).toBe(503);
    expect(down.retryAfter).toBe('1');
    expect(down.body.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    const unready = await get(url, '/ready');
    expect(unready.status).toBe(503);
    expect(JSON.parse(unready.text).checks.postgres).toBe('ok');
    expect(JSON.parse(unready.text).checks.redis).not.toBe('ok');

    await redis.restart();
    let after: Awaited<ReturnType<typeof buyOverHttp>> | undefined;
    for (let i = 0; i < 100; i++) {
      after = await buyOverHttp(url, 'after', ticketIds[1] as string);
      if (after.status === 200) break;
      await sleep(100);
    }
    expect(after?.body.data?.purchaseTicket.__typename).toBe('PurchaseTicketSuccess');
    // Redis came back empty: the seat sold before the outage is refused by Postgres, not sold again.
    expect((await buyOverHttp(url, 'again', ticketIds[0] as string)).body.data?.purchaseTicket.__typename).toBe(
      'TicketUnavailable',
    );
    expect((await get(url, '/ready')).status).toBe(200);
    await expectSaleInvariants(api.app.services.db);
  });
});

/** A TCP proxy to Postgres that the test can cut and restore: Postgres "unreachable" without touching it. */
async function startPostgresProxy(): Promise<{
  port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(5432, '127.0.0.1');
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => {});
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, '127.0.0.1', () => {
        const address = server?.address();
        port = typeof address === 'object' && address ? address.port : 0;
        resolve();
      });
    });
  const cut = async () => {
    await new Promise<void>((resolve) => {
      server?.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
  };
  await listen();
  return { port, cut, restore: listen, close: cut };
}

describe('when Postgres becomes unreachable and comes back', () => {
  let database: TestDatabase;
  let proxy: Awaited<ReturnType<typeof startPostgresProxy>>;
  let api: TestApp;
  let url: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    proxy = await startPostgresProxy();
    const viaProxy = database.url.replace('127.0.0.1:5432', `127.0.0.1:${proxy.port}`);
    api = await startTestApp({ kind: 'real', databaseUrl: viaProxy, env: { DEPENDENCY_TIMEOUT_MS: '1000' } });
    url = await api.listen();
  });
  afterAll(async () => {
    await api?.stop();
    await proxy?.close();
    await database?.drop();
  });

  it('answers SERVICE_UNAVAILABLE with Retry-After, frees the lock, and recovers by itself', async () => {
    const { ticketIds } = await createTestEvent(api.app, { seats: 2 });
    await proxy.cut();
    const down = await buyOverHttp(url, 'during', ticketIds[0] as string);
    expect(down.status).toBe(503);
    expect(down.retryAfter).toBe('1');
    expect(down.body.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect((await get(url, '/ready')).status).toBe(503);

    await proxy.restore();
    let after: Awaited<ReturnType<typeof buyOverHttp>> | undefined;
    for (let i = 0; i < 100; i++) {
      after = await buyOverHttp(url, 'after', ticketIds[0] as string);
      if (after.status === 200) break;
      await sleep(100);
    }
    // The refused buyer's lock was released: the same seat sells to the next buyer.
    expect(after?.body.data?.purchaseTicket.__typename).toBe('PurchaseTicketSuccess');
    const [sold] = await database.sql<{ n: number }[]>`select count(*)::int as n from tickets where status = 'SOLD'`;
    expect(sold?.n).toBe(1);
    await expectSaleInvariants(api.app.services.db);
  });
});

/** One request on a connection of its own, so a refused connection means the request never reached the server. */
function postOnce(url: string, body: string, token: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization: `Bearer ${token}`,
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
        response.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('SIGTERM under load (node dist/main.js on Postgres and Redis)', () => {
  let database: TestDatabase;
  let seeder: TestApp;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await seeder?.stop();
    await database?.drop();
  });

  it('answers every request it accepted, orphans no lock, keeps every sold mark, and exits 0', async () => {
    const prefix = uniqueRedisPrefix();
    seeder = await startTestApp({ kind: 'real', databaseUrl: database.url, redisPrefix: prefix });
    const { ticketIds } = await createTestEvent(seeder.app, { seats: 400 });
    await seeder.stop();
    const server = startServer('node', ['dist/main.js'], {
      NODE_ENV: 'production',
      PORT: '0',
      HOST: '127.0.0.1',
      JWT_SECRET: TEST_JWT_SECRET,
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      SEED_DEMO: 'false',
      PURCHASE_RATE_LIMIT: '0',
      SHUTDOWN_GRACE_MS: '5000',
    });
    const { url } = await server.listening();
    const tokens = await Promise.all(Array.from({ length: 40 }, (_, i) => tokenFor(`drain-${i}`)));

    const answers = { typed: 0, unavailable: 0, refusedConnections: 0, inFlightAtSignal: 0 };
    const failures: string[] = [];
    let signalledAt = 0;
    let seat = 0;
    const worker = async (token: string) => {
      for (;;) {
        const ticketId = ticketIds[seat++ % ticketIds.length] as string;
        const sentAt = Date.now();
        try {
          const { status, text } = await postOnce(
            url,
            JSON.stringify({ query: PURCHASE, variables: { ticketId } }),
            token,
          );
          if (signalledAt && sentAt < signalledAt) answers.inFlightAtSignal++;
          const body = JSON.parse(text) as {
            data?: { purchaseTicket?: { __typename: string } };
            errors?: Array<{ extensions?: { code?: string } }>;
          };
          if (status === 200 && body.data?.purchaseTicket?.__typename) answers.typed++;
          else if (status === 503 && body.errors?.[0]?.extensions?.code === 'SERVICE_UNAVAILABLE') {
            // Draining: a client goes to another instance, as it would behind a balancer.
            answers.unavailable++;
            return;
          } else failures.push(`${status} ${text.slice(0, 200)}`);
        } catch (error) {
          const code = (error as { code?: string }).code;
          // Refused: the server no longer accepts connections, so the request never reached it.
          if (code === 'ECONNREFUSED') {
            answers.refusedConnections++;
            return;
          }
          failures.push(`${code ?? ''} ${String(error)}`);
          return;
        }
      }
    };
    const load = Promise.all(tokens.map(worker));
    await sleep(1000);
    signalledAt = Date.now();
    signalGroup(server, 'SIGTERM');
    const { code } = await server.exited(20_000);
    await load;
    console.log(`SIGTERM under load: ${JSON.stringify(answers)}`);
    expect(code).toBe(0);
    expect(failures).toEqual([]);
    expect(answers.typed).toBeGreaterThan(0);
    // Each worker stopped on an answer (503 while draining) or, once the port closed, a refused connection.
    expect(answers.unavailable + answers.refusedConnections).toBe(tokens.length);
    expect(server.output()).toContain('stopped cleanly');
    // The bundle holds one copy of graphql, so the repeated purchase document ran as compiled code.
    expect(server.output()).not.toContain('could not compile');

    const redis = new Redis(TEST_REDIS_URL);
    try {
      const keys = await redis.keys(`${prefix}ticket:*`);
      const values = keys.length > 0 ? await redis.mget(...keys) : [];
      // A lock is a request's random token; once drained, every key left is a sold mark.
      expect(values.filter((value) => !value?.startsWith('sold'))).toEqual([]);
      const sold = await database.sql<{ id: string }[]>`select id from tickets where status = 'SOLD'`;
      const marked = new Set(keys.map((key) => key.slice(key.indexOf('{') + 1, key.indexOf('}'))));
      expect(sold.filter((row) => !marked.has(row.id))).toEqual([]);
      expect(sold.length).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
    const check = await startTestApp({ kind: 'real', databaseUrl: database.url, redisPrefix: prefix });
    try {
      await expectSaleInvariants(check.app.services.db);
    } finally {
      await check.stop();
    }
  });
});

describe('a drain with a mutation in flight over graphql-ws', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('answers the mutation before closing the socket', async () => {
    let entered: () => void = () => {};
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const api = await startTestApp({
      kind: 'real',
      databaseUrl: database.url,
      // The purchase pauses between its locks and its transaction, so the drain starts mid-flight.
      hooks: {
        afterLock: async () => {
          entered();
          await sleep(300);
        },
      },
    });
    const { ticketIds } = await createTestEvent(api.app, { seats: 1 });
    const url = await api.listen();
    const client = wsClient(url, await tokenFor('ws-buyer'));
    const answer = new Promise<unknown>((resolve, reject) => {
      let result: unknown;
      client.subscribe(
        { query: PURCHASE, variables: { ticketId: ticketIds[0] } },
        { next: (value) => (result = value), error: reject, complete: () => resolve(result) },
      );
    });
    await inside;
    const stopped = api.stop();
    const result = (await answer) as { data?: { purchaseTicket?: { __typename: string } } };
    expect(result.data?.purchaseTicket?.__typename).toBe('PurchaseTicketSuccess');
    await stopped;
    await client.dispose();
  });
});
