import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestApp, type TestApp } from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

const MAX_BODY_BYTES = 20_000;
const MAX_PER_ADDRESS = 3;

/** A raw `graphql-transport-ws` socket, open (upgrade done) or refused with the upgrade's HTTP status. */
async function connect(url: string): Promise<{ socket: WebSocket } | { refusedWith: number }> {
  const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ socket }));
    socket.once('unexpected-response', (_request, response: IncomingMessage) => {
      resolve({ refusedWith: response.statusCode ?? 0 });
      response.resume();
      socket.terminate();
    });
    socket.once('error', reject);
  });
}

async function open(url: string): Promise<WebSocket> {
  const result = await connect(url);
  if (!('socket' in result)) throw new Error(`upgrade refused with ${result.refusedWith}`);
  return result.socket;
}

/** Sends connection_init and waits for the ack. */
async function initialise(socket: WebSocket): Promise<void> {
  socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
  const [data] = await once(socket, 'message');
  expect(JSON.parse(String(data))).toMatchObject({ type: 'connection_ack' });
}

async function closeCode(socket: WebSocket): Promise<number> {
  if (socket.readyState === WebSocket.CLOSED) throw new Error('already closed');
  const [code] = await once(socket, 'close');
  return code as number;
}

describe('WebSocket limits', () => {
  let database: TestDatabase;
  let api: TestApp;
  let url: string;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    api = await startTestApp({
      kind: 'real',
      databaseUrl: database.url,
      env: { MAX_BODY_BYTES: String(MAX_BODY_BYTES), WS_MAX_CONNECTIONS_PER_ADDRESS: String(MAX_PER_ADDRESS) },
    });
    url = await api.listen();
  });
  afterAll(async () => {
    for (const socket of sockets) socket.terminate();
    await api?.stop();
    await database?.drop();
  });

  const healthy = async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(response.status).toBe(200);
    const socket = await open(url);
    await initialise(socket);
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '{ __typename }' } }));
    const [data] = await once(socket, 'message');
    expect(JSON.parse(String(data))).toMatchObject({
      id: '1',
      type: 'next',
      payload: { data: { __typename: 'Query' } },
    });
    socket.close();
    await once(socket, 'close');
  };

  it('closes a socket whose message is over the HTTP body limit with 1009, and the server stays healthy', async () => {
    const socket = await open(url);
    await initialise(socket);
    const closed = closeCode(socket);
    const query = `{ __typename } # ${'x'.repeat(MAX_BODY_BYTES)}`;
    socket.send(JSON.stringify({ id: 'big', type: 'subscribe', payload: { query } }));
    expect(await closed).toBe(1009);
    await healthy();
  });

  it('refuses the connection over the per-address cap with 429, and takes one again once a socket closes', async () => {
    await sleep(50); // the previous test's sockets are counted out on their close
    for (let i = 0; i < MAX_PER_ADDRESS; i++) sockets.push(await open(url));
    expect(await connect(url)).toEqual({ refusedWith: 429 });
    // A burst is refused too: each upgrade is counted before the next is verified.
    const burst = await Promise.all(Array.from({ length: 5 }, () => connect(url)));
    expect(burst).toEqual(Array.from({ length: 5 }, () => ({ refusedWith: 429 })));

    const first = sockets.shift() as WebSocket;
    first.close();
    await once(first, 'close');
    await sleep(50);
    const again = await connect(url);
    expect(again).toHaveProperty('socket');
    if ('socket' in again) sockets.push(again.socket);
    for (const socket of sockets.splice(0)) {
      socket.close();
      await once(socket, 'close');
    }
  });

  it('still closes a socket that never sends connection_init (4408)', async () => {
    await sleep(50);
    const socket = await open(url);
    const started = Date.now();
    expect(await closeCode(socket)).toBe(4408);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
