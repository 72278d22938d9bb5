import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { TEST_JWT_SECRET, TEST_REDIS_URL } from './services.js';

/** A server started as a person would start it, with its output captured. */
export interface ServerProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the URL once the server prints that it listens, and the ms it took. */
  listening(timeoutMs?: number): Promise<{ url: string; ms: number }>;
  /** Resolves with the exit code (null if killed by a signal) and the ms it took. */
  exited(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

/**
 * Spawns `command` in its own process group with exactly `env` (plus PATH and HOME), as a newcomer
 * without DATABASE_URL or REDIS_URL would run it.
 */
export function startServer(command: string, args: string[], env: Record<string, string>): ServerProcess {
  const startedAt = Date.now();
  const child = spawn(command, args, {
    cwd: new URL('../..', import.meta.url).pathname,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  // 'close', not 'exit': under `npm start` the npm process can exit before the node server it runs has
  // finished writing; 'close' waits until every process holding the output pipes has let go of them.
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return {
    child,
    output: () => output,
    async listening(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = /listening: (http:\/\/\S+)/.exec(output);
        if (match?.[1]) return { url: match[1], ms: Date.now() - startedAt };
        if (child.exitCode !== null) throw new Error(`server exited early:\n${output}`);
        if (Date.now() > deadline) throw new Error(`server did not listen within ${timeoutMs} ms:\n${output}`);
        await sleep(25);
      }
    },
    async exited(timeoutMs = 10_000) {
      const signalledAt = Date.now();
      const timeout = sleep(timeoutMs).then(() => undefined);
      const result = await Promise.race([exit, timeout]);
      if (!result) {
        process.kill(-(child.pid ?? 0), 'SIGKILL');
        throw new Error(`server did not exit within ${timeoutMs} ms:\n${output}`);
      }
      return { code: result.code, signal: result.signal, ms: result.at - signalledAt };
    },
  };
}

/** Sends `signal` to the server's whole process group, as a terminal's Ctrl-C or a supervisor does. */
export function signalGroup(server: ServerProcess, signal: NodeJS.Signals): void {
  process.kill(-(server.child.pid ?? 0), signal);
}

/**
 * The built server (`node dist/main.js`) as production runs it, on `databaseUrl` and the test Redis
 * under `redisPrefix`, with no rate limit and no demo event; `env` adds or overrides settings.
 */
export function startBuiltServer(
  databaseUrl: string,
  redisPrefix: string,
  env: Record<string, string> = {},
): ServerProcess {
  return startServer('node', ['dist/main.js'], {
    NODE_ENV: 'production',
    CORS_ORIGINS: '*',
    PORT: '0',
    HOST: '127.0.0.1',
    JWT_SECRET: TEST_JWT_SECRET,
    DATABASE_URL: databaseUrl,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: redisPrefix,
    SEED_DEMO: 'false',
    PURCHASE_RATE_LIMIT: '0',
    ...env,
  });
}
