import { connect, createServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { assertLoopback } from './services.js';

/** Statements sent so far, cumulative: every one, and by its SQL text. */
export interface StatementSnapshot {
  /** When it was taken, in epoch ms (sub-millisecond). */
  at: number;
  total: number;
  byText: ReadonlyMap<string, number>;
  /** Connections whose traffic could not be read (they asked for TLS): their statements are not counted. */
  unread: number;
}

/** What was sent between two snapshots: the count, and the count of each SQL text (most first). */
export interface StatementDelta {
  ms: number;
  total: number;
  byText: Record<string, number>;
}

/**
 * A loopback proxy in front of one database that counts the statements the servers send through it,
 * as they are sent. `url` is the database's URL through the proxy: give it to the servers.
 */
export interface StatementCounter {
  url: string;
  snapshot(): Promise<StatementSnapshot>;
  close(): Promise<void>;
}

const SSL_REQUEST = 80_877_103;
const GSS_REQUEST = 80_877_104;

/** The NUL-terminated string at `from`, and where the next field starts. */
function cstring(body: Buffer, from: number): [string, number] {
  const end = body.indexOf(0, from);
  const stop = end < 0 ? body.length : end;
  return [body.toString('utf8', from, stop), stop + 1];
}

/**
 * A statement's text with whitespace collapsed and its lists of parameters folded (`($1::uuid, $2::uuid)`
 * → `($::uuid, …)`, `($1, $2), ($3, $4)` → `($, $), …`), so one statement of any number of seats is
 * one text (or two: one parameter, or a list).
 */
export function statementText(sql: string): string {
  return sql
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/\$\d+/g, '$')
    .replace(/\$(::\w+)?(?:, \$(?:::\w+)?)+/g, '$$$1, …')
    .replace(/(\([^()]*\))(?:, \1)+/g, '$1, …');
}

/** The worker's side: the proxy, and the counts it sends back when asked. */
function serveProxy(databaseUrl: string): void {
  const port = parentPort;
  if (!port) return;
  const upstream = new URL(databaseUrl);
  const byText = new Map<string, number>();
  let total = 0;
  let unread = 0;
  const count = (text: string) => {
    total++;
    byText.set(text, (byText.get(text) ?? 0) + 1);
  };

  const server = createServer((client: Socket) => {
    const backend = connect(Number(upstream.port || 5432), upstream.hostname);
    const prepared = new Map<string, string>();
    const portals = new Map<string, string>();
    let pending: Buffer = Buffer.alloc(0);
    let startup = true;
    let reading = true;

    const handle = (type: number, body: Buffer) => {
      switch (type) {
        case 0x51: // Q: a simple query (one message, however many statements it holds)
          return count(statementText(cstring(body, 0)[0]));
        case 0x50: {
          // P: Parse (statement name, text, …)
          const [name, next] = cstring(body, 0);
          prepared.set(name, statementText(cstring(body, next)[0]));
          return;
        }
        case 0x42: {
          // B: Bind (portal, statement name, …)
          const [portal, next] = cstring(body, 0);
          portals.set(portal, prepared.get(cstring(body, next)[0]) ?? '(unknown statement)');
          return;
        }
        case 0x45: // E: Execute (portal, row limit)
          return count(portals.get(cstring(body, 0)[0]) ?? '(unknown portal)');
        default:
          return;
      }
    };

    const read = (chunk: Buffer) => {
      if (!reading) return;
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let at = 0;
      for (;;) {
        if (startup) {
          // Untyped: length, then the protocol version or a request code.
          if (pending.length - at < 8) break;
          const length = pending.readInt32BE(at);
          if (pending.length - at < length) break;
          const code = pending.readInt32BE(at + 4);
          at += length;
          if (code === SSL_REQUEST || code === GSS_REQUEST) {
            reading = false;
            unread++;
            return;
          }
          startup = false;
          continue;
        }
        if (pending.length - at < 5) break;
        const length = pending.readInt32BE(at + 1);
        if (pending.length - at < 1 + length) break;
        handle(pending[at] ?? 0, pending.subarray(at + 5, at + 1 + length));
        at += 1 + length;
      }
      pending = at === pending.length ? Buffer.alloc(0) : Buffer.from(pending.subarray(at));
    };

    client.setNoDelay(true);
    backend.setNoDelay(true);
    client.on('data', read);
    client.pipe(backend);
    backend.pipe(client);
    const end = () => {
      client.destroy();
      backend.destroy();
    };
    for (const socket of [client, backend]) {
      socket.on('error', end);
      socket.on('close', end);
    }
  });

  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    port.postMessage({ kind: 'listening', port: typeof address === 'object' && address ? address.port : 0 });
  });
  port.on('message', (message: { kind: 'snapshot'; id: number }) => {
    port.postMessage({
      kind: 'snapshot',
      id: message.id,
      at: performance.timeOrigin + performance.now(),
      total,
      byText: [...byText],
      unread,
    });
  });
}

if (!isMainThread && (workerData as { statementCounter?: string } | null)?.statementCounter) {
  serveProxy((workerData as { statementCounter: string }).statementCounter);
}

/**
 * Why a proxy: Postgres counts statements only in pg_stat_statements, which is not preloaded here
 * (and the load test does not reconfigure the server), and its per-database transaction counters
 * reach pg_stat_database lazily, seconds after a backend goes idle. Reading the frontend protocol on
 * the way in gives the exact number of statements in any window, with their texts.
 *
 * Counted: each Execute (extended protocol: postgres.js sends every statement, BEGIN and COMMIT
 * included, this way) by the text its portal was bound from, and each simple Query message as one.
 * The answers flow back untouched. A connection that asks for TLS is passed through unread. The
 * proxy runs in a worker thread of its own, so the generator's event loop never delays a round trip.
 */
export async function startStatementCounter(databaseUrl: string): Promise<StatementCounter> {
  assertLoopback(databaseUrl);
  // The worker loads this file through tsx, as the harness itself runs (a worker does not inherit the loader).
  const code = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then(({ tsImport }) => tsImport(${JSON.stringify(import.meta.url)}, ${JSON.stringify(import.meta.url)}))`;
  const worker = new Worker(code, { eval: true, workerData: { statementCounter: databaseUrl } });
  const waiting = new Map<number, (snapshot: StatementSnapshot) => void>();
  let asked = 0;
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (message: { kind: string; port?: number; id?: number } & Record<string, unknown>) => {
      if (message.kind === 'listening') return resolve(message.port ?? 0);
      const answer = waiting.get(message.id ?? -1);
      waiting.delete(message.id ?? -1);
      answer?.({
        at: message.at as number,
        total: message.total as number,
        byText: new Map(message.byText as Array<[string, number]>),
        unread: message.unread as number,
      });
    });
  });
  worker.on('error', (error) => console.error('statement counter:', error));
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.toString(),
    snapshot: () =>
      new Promise((resolve) => {
        const id = asked++;
        waiting.set(id, resolve);
        worker.postMessage({ kind: 'snapshot', id });
      }),
    async close() {
      await worker.terminate();
    },
  };
}

/** The statements sent between `from` and `to`, each text with its count, most frequent first. */
export function statementsBetween(from: StatementSnapshot, to: StatementSnapshot): StatementDelta {
  const byText = [...to.byText]
    .map(([text, n]): [string, number] => [text, n - (from.byText.get(text) ?? 0)])
    .filter(([, n]) => n > 0)
    .sort(([, a], [, b]) => b - a);
  return { ms: Math.round(to.at - from.at), total: to.total - from.total, byText: Object.fromEntries(byText) };
}
