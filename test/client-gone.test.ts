import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEvent, startTestApp, tokenFor, uniqueRedisPrefix } from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { get } from './helpers/http.js';
import { expectSaleInvariants } from './helpers/invariants.js';
import { type ServerProcess, signalGroup, startBuiltServer } from './helpers/process.js';

// A paused instance (the drill's `stop`: a GC pause, a stalled VM) resumes with requests queued in
// its sockets whose clients gave up and closed them. It must not spend seat locks and transactions on
// them, and a key whose request was dropped must buy on its retry as if the first never ran.

const KEYED_PURCHASE = /* GraphQL */ `
  mutation Buy($ticketId: ID!, $key: String) {
    purchaseTicket(input: { ticketId: $ticketId, idempotencyKey: $key }) {
      __typename
      ... on PurchaseTicketSuccess { order { id } }
      ... on Error { message }
    }
  }
`;

/** A purchase, keyed unless `key` is null. */
async function buy(url: string, token: string, ticketId: string, key: string | null, signal?: AbortSignal) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: KEYED_PURCHASE, variables: { ticketId, key } }),
    signal: signal ?? AbortSignal.timeout(10_000),
  });
  return (await response.json()) as { data?: { purchaseTicket?: { __typename: string } } };
}

/** The instance's count of purchase calls dropped because their client had gone. */
async function droppedCount(url: string): Promise<number> {
  const { text } = await get(url, '/metrics');
  const line = text
    .split('\n')
    .find((l) => l.startsWith('flux_attempts_total{operation="purchase",outcome="ClientGone"'));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('requests whose client closed before they were served (node dist/main.js, SIGSTOP)', () => {
  let database: TestDatabase;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    if (server) signalGroup(server, 'SIGCONT');
    if (server) signalGroup(server, 'SIGKILL');
    await database?.drop();
  });

  it('does no work for them once it resumes; each key buys on its retry; the invariants hold', async () => {
    const prefix = uniqueRedisPrefix();
    const seeder = await startTestApp({ kind: 'real', databaseUrl: database.url, redisPrefix: prefix });
    const { ticketIds } = await createTestEvent(seeder.app, { seats: 8 });
    await seeder.stop();
    server = startBuiltServer(database.url, prefix, { METRICS: 'true' });
    const { url } = await server.listening();
    const token = await tokenFor('gone-buyer');
    const warm = await buy(url, token, ticketIds[7] as string, 'warm');
    expect(warm.data?.purchaseTicket?.__typename).toBe('PurchaseTicketSuccess');

    signalGroup(server, 'SIGSTOP');
    // Five keyed purchases, and two with no key (dropped after their seat locks, which go back).
    const seats = ticketIds.slice(0, 7);
    const keyOf = (i: number) => (i < 5 ? `gone-${i}` : null);
    const gone = seats.map((ticketId, i) => {
      const controller = new AbortController();
      const sent = buy(url, token, ticketId, keyOf(i), controller.signal).catch((error: Error) => error.name);
      return { controller, sent };
    });
    await sleep(300);
    for (const { controller } of gone) controller.abort();
    expect(await Promise.all(gone.map((g) => g.sent))).toEqual(seats.map(() => 'AbortError'));
    signalGroup(server, 'SIGCONT');

    // Every one of them reached the resumed instance and was dropped there.
    const deadline = Date.now() + 10_000;
    while ((await droppedCount(url)) < seats.length && Date.now() < deadline) await sleep(50);
    expect(await droppedCount(url)).toBe(seats.length);
    const [made] = await database.sql<{ orders: number; sold: number }[]>`
      select (select count(*)::int from orders where idempotency_key like 'gone-%') as orders,
             (select count(*)::int from tickets where status = 'SOLD') as sold`;
    expect(made).toEqual({ orders: 0, sold: 1 });

    // Nothing was left behind (no lock, no refusal for the key): each retry buys its seat.
    for (const [i, ticketId] of seats.entries()) {
      const retry = await buy(url, token, ticketId, keyOf(i));
      expect(retry.data?.purchaseTicket?.__typename).toBe('PurchaseTicketSuccess');
    }
    expect(server.output()).not.toContain('unexpected error');

    const check = await startTestApp({ kind: 'real', databaseUrl: database.url, redisPrefix: prefix });
    try {
      const summary = await expectSaleInvariants(check.app.services.db);
      expect(summary.soldTickets).toBe(seats.length + 1);
    } finally {
      await check.stop();
    }
  });
});
