import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect } from 'vitest';
import WebSocket from 'ws';
import { integrationTest } from './helpers/fixtures.js';

const MAX_BODY_BYTES = 20_000;
const MAX_PER_ADDRESS = 3;

const it = integrationTest({
  app: { env: { MAX_BODY_BYTES: String(MAX_BODY_BYTES), WS_MAX_CONNECTIONS_PER_ADDRESS: String(MAX_PER_ADDRESS) } },
});

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
  const sockets: WebSocket[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) {
      if (socket.readyState === WebSocket.CLOSED) continue;
      socket.close();
      await once(socket, 'close');
    }
    await sleep(50); // the server counts a socket out when its close reaches it
  });

  /** Plain HTTP answers, and a new socket runs an operation. */
  const healthy = async (url: string) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(response.status).toBe(200);
    const socket = await open(url);
    sockets.push(socket);
    await initialise(socket);
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '{ __typename }' } }));
    const [data] = await once(socket, 'message');
    expect(JSON.parse(String(data))).toMatchObject({
      id: '1',
      type: 'next',
      payload: { data: { __typename: 'Query' } },
    });
  };

  it('closes a socket whose message is over the HTTP body limit with 1009, and the server stays healthy', async ({
    api,
  }) => {
    const url = await api.listen();
    const socket = await open(url);
    sockets.push(socket);
    await initialise(socket);
    const closed = closeCode(socket);
    const query = `{ __typename } # ${'x'.repeat(MAX_BODY_BYTES)}`;
    socket.send(JSON.stringify({ id: 'big', type: 'subscribe', payload: { query } }));
    expect(await closed).toBe(1009);
    await healthy(url);
  });

  it('refuses the connection over the per-address cap with 429, and takes one again once a socket closes', async ({
    api,
  }) => {
    const url = await api.listen();
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
  });

  it('still closes a socket that never sends connection_init (4408)', async ({ api }) => {
    const socket = await open(await api.listen());
    sockets.push(socket);
    const started = Date.now();
    expect(await closeCode(socket)).toBe(4408);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
