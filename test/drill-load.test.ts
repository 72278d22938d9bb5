import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { History } from '../loadtest/drill/history.js';
import { type LoadSettings, SeatPicker, startLoad } from '../loadtest/drill/load.js';

// The drill's two load shapes against a stand-in for the API that answers every request with a typed
// refusal after SLOW_MS. The closed loop's rate is set by the answers (each client waits for its
// own); the open loop starts sessions on its schedule whatever the answers take. That independence
// is why the drill's throughput recovery can be read against a fixed offered rate.

const SLOW_MS = 200;
const refusal = JSON.stringify({ data: { r: { __typename: 'TicketUnavailable', reason: 'LOCKED' } } });

describe('the drill load', () => {
  let server: Server;
  let url: string;
  let requests = 0;

  beforeAll(async () => {
    server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        requests++;
        setTimeout(() => response.writeHead(200, { 'content-type': 'application/json' }).end(refusal), SLOW_MS);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const run = async (settings: Pick<LoadSettings, 'rate' | 'workers'>, forMs: number) => {
    const ids = Array.from({ length: 1000 }, (_, i) => `seat-${i}`);
    const history = new History(null);
    const load = startLoad(
      [url],
      ['Bearer a', 'Bearer b'],
      new SeatPicker(ids, 200),
      { ...settings, timeoutMs: 2000, retryForMs: 2000, thinkMs: 10, hotSeats: 200 },
      history,
      'test',
    );
    await new Promise((resolve) => setTimeout(resolve, forMs));
    const sent = requests;
    await load.stop();
    return { attempts: history.attempts, sentBeforeStop: sent };
  };

  it('open loop: starts sessions at the rate whatever the answers take; stop() waits for every one', async () => {
    requests = 0;
    const { attempts, sentBeforeStop } = await run({ rate: 100, workers: 4 }, 1000);
    // 100 sessions/s for 1 s, each one refused attempt: about 100 invoked, though each answer takes 200 ms.
    expect(attempts.length).toBeGreaterThanOrEqual(80);
    expect(attempts.length).toBeLessThanOrEqual(110);
    expect(attempts.every((a) => a.outcome.type === 'refused')).toBe(true);
    expect(attempts.every((a) => a.complete - a.invoke >= SLOW_MS - 5)).toBe(true);
    // Sessions in flight at stop() were waited for, not dropped: each request sent has its line.
    expect(attempts.length).toBeGreaterThanOrEqual(sentBeforeStop);
    // Four buyers take the sessions in turn.
    expect(new Set(attempts.map((a) => a.worker))).toEqual(new Set([0, 1, 2, 3]));
    const invokes = attempts.map((a) => a.invoke).sort((a, b) => a - b);
    expect((invokes.at(-1) ?? 0) - (invokes[0] ?? 0)).toBeGreaterThanOrEqual(800);
  });

  it('closed loop: each client sends its next session only when its last is answered', async () => {
    requests = 0;
    const { attempts } = await run({ rate: 0, workers: 4 }, 1000);
    // Four clients, 200 ms per answer, 1 s: about 4 × 5 attempts, nowhere near the open loop's 100.
    expect(attempts.length).toBeGreaterThanOrEqual(12);
    expect(attempts.length).toBeLessThanOrEqual(28);
    for (const worker of [0, 1, 2, 3]) {
      const mine = attempts.filter((a) => a.worker === worker).sort((a, b) => a.invoke - b.invoke);
      for (let i = 1; i < mine.length; i++)
        expect(mine[i]?.invoke ?? 0).toBeGreaterThanOrEqual(mine[i - 1]?.complete ?? Number.POSITIVE_INFINITY);
    }
  });
});
