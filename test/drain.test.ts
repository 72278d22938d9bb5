import { request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEvent, PURCHASE, startTestApp, type TestApp, tokenFor, uniqueRedisPrefix } from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { expectSaleInvariants } from './helpers/invariants.js';
import { wsClient } from './helpers/live.js';
import { signalGroup, startBuiltServer } from './helpers/process.js';
import { TEST_REDIS_URL } from './helpers/services.js';

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
    const server = startBuiltServer(database.url, prefix, { SHUTDOWN_GRACE_MS: '5000' });
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
      const keys = await redis.keys(`${prefix}{ev:*}:seat:*`);
      const values = keys.length > 0 ? await redis.mget(...keys) : [];
      // A lock is a request's random token; once drained, every key left is a sold mark.
      expect(values.filter((value) => !value?.startsWith('sold'))).toEqual([]);
      const sold = await database.sql<{ id: string }[]>`select id from tickets where status = 'SOLD'`;
      const marked = new Set(keys.map((key) => key.slice(key.indexOf(':seat:') + ':seat:'.length)));
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
