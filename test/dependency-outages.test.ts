import { connect, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEvent, startTestApp, type TestApp } from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { buyOverHttp, get } from './helpers/http.js';
import { expectSaleInvariants } from './helpers/invariants.js';
import { type OwnRedis, startOwnRedis } from './helpers/redis-server.js';

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
