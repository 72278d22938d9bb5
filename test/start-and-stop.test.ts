import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { uniqueRedisPrefix } from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { subscribeSse, subscribeWs, wsClient } from './helpers/live.js';
import { signalGroup, startServer } from './helpers/process.js';
import { TEST_JWT_SECRET, TEST_REDIS_URL } from './helpers/services.js';

const post = async (url: string, query: string, token?: string) => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as { data?: { purchaseTicket?: { __typename: string } }; errors?: unknown[] };
};

describe('the newcomer path', () => {
  it('`npm start` with no database or Redis serves the demo sale; the printed token buys a seat; it stops cleanly', async () => {
    const server = startServer('npm', ['start'], { PORT: '0', HOST: '127.0.0.1' });
    try {
      const { url, ms } = await server.listening();
      console.log(`npm start → listening in ${ms} ms (embedded)`);
      const output = server.output();
      expect(output).toMatch(/EMBEDDED MODE.*not for production/i);
      const token = /Demo customer token[^\n]*\n\s*(\S+)/.exec(output)?.[1];
      const operation = /^Try: (mutation .*)$/m.exec(output)?.[1];
      expect(token).toBeDefined();
      expect(operation).toBeDefined();

      const bought = await post(url, operation as string, token);
      expect(bought.data?.purchaseTicket?.__typename).toBe('PurchaseTicketSuccess');
      const again = await post(url, operation as string, token);
      expect(again.data?.purchaseTicket?.__typename).toBe('TicketUnavailable');
    } finally {
      signalGroup(server, 'SIGTERM');
    }
    await server.exited(5000);
    expect(server.output()).toContain('stopped cleanly');
  });

  it('refuses to start in production without DATABASE_URL, REDIS_URL and JWT_SECRET, naming each', async () => {
    const server = startServer('node', ['dist/main.js'], { NODE_ENV: 'production', PORT: '0' });
    const { code } = await server.exited(20_000);
    expect(code).toBe(1);
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'JWT_SECRET']) expect(server.output()).toContain(name);
    expect(server.output()).not.toContain('listening');
  });
});

describe.each(['embedded', 'real'] as const)('SIGTERM on the %s backend', (kind) => {
  it('closes HTTP and WebSocket clients and its connections, and exits 0 within a few seconds', async ({
    onTestFinished,
  }) => {
    const redisPrefix = uniqueRedisPrefix();
    const env: Record<string, string> = { PORT: '0', HOST: '127.0.0.1', JWT_SECRET: TEST_JWT_SECRET };
    // Only the real backend needs a database, so this test makes its own rather than use a fixture's.
    let database: TestDatabase | undefined;
    if (kind === 'real') {
      const created = await createTestDatabase();
      onTestFinished(() => created.drop());
      database = created;
      Object.assign(env, {
        DATABASE_URL: database.url,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_KEY_PREFIX: redisPrefix,
        SEED_DEMO: 'true',
      });
    }
    const server = startServer('node', ['dist/main.js'], env);
    const { url } = await server.listening();
    const events = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ events(first: 1) { edges { node { id } } } }' }),
    }).then((r) => r.json() as Promise<{ data: { events: { edges: Array<{ node: { id: string } }> } } }>);
    const eventId = events.data.events.edges[0]?.node.id as string;
    let socketClosed: number | undefined;
    const client = wsClient(url);
    client.on('closed', (event) => {
      socketClosed = (event as { code: number }).code;
    });
    const ws = subscribeWs(client, eventId);
    const sse = subscribeSse(url, eventId);
    await ws.until((m) => m.length >= 1);
    await sse.until((m) => m.length >= 1);

    server.child.kill('SIGTERM');
    const { code, ms } = await server.exited(5000);
    console.log(`SIGTERM → exit ${code} in ${ms} ms (${kind})`);
    expect(code).toBe(0);
    expect(server.output()).toContain('stopped cleanly');
    // No process warnings (deprecations, library security notices) in an operator's log.
    expect(server.output()).not.toMatch(/\(node:\d+\).*Warning/);
    expect(socketClosed).toBe(1001);
    await sse.close();
    await ws.close();

    if (database) {
      const left =
        await database.sql`select count(*)::int as n from pg_stat_activity where datname = ${database.name} and pid <> pg_backend_pid()`;
      expect(left[0]?.n).toBe(0);
      const redis = new Redis(TEST_REDIS_URL);
      try {
        const clients = (await redis.client('LIST')) as string;
        expect(clients.split('\n').filter((line) => line.includes(`name=${redisPrefix}`))).toEqual([]);
      } finally {
        redis.disconnect();
      }
    }
  });
});
