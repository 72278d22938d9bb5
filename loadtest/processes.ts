import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/free-port.js';
import { sleep } from './services.js';

/** The repository root: servers run from here, so the migrations folder resolves as in production. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** One server process the harness started, listening on loopback. */
export interface ServerProcess {
  port: number;
  url: string;
  pid: number;
  /** The last lines it printed, for error messages. */
  output(): string;
  /** SIGTERM (the app's graceful stop), SIGKILL after 15 s. Resolves once it has exited. */
  stop(): Promise<void>;
  /** SIGKILL (a crash: nothing is drained). Resolves once it has exited. */
  kill(): Promise<void>;
  /** Sends `signal` (e.g. SIGSTOP, SIGCONT) and returns at once. */
  signal(signal: NodeJS.Signals): void;
}

/** What to start: a compiled server (see compile.ts), with its environment. */
export interface ServerSpec {
  /** The bundle to run with plain `node`, relative to the repository root: `dist/main.js` or the floor's. */
  script: string;
  env: Record<string, string>;
  cpuProfDir?: string;
  /** The port to listen on (a restarted instance takes its old one); default: a free one. */
  port?: number;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function waitUntilServing(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output()}`);
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"query":"{ __typename }"}',
        signal: AbortSignal.timeout(2000),
      });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`server at ${url} did not answer within 60 s:\n${output()}`);
}

/** Starts one server process on its own port and waits until a tiny GraphQL query answers. */
export async function startServer(spec: ServerSpec): Promise<ServerProcess> {
  const port = spec.port ?? (await freePort());
  const nodeArgs = spec.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', spec.cpuProfDir] : [];
  const child = spawn(process.execPath, [...nodeArgs, spec.script], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...spec.env,
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const output = () => lines.join('\n');
  const url = `http://127.0.0.1:${port}/graphql`;
  const server: ServerProcess = {
    port,
    url,
    pid: child.pid ?? 0,
    output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      if (!(await waitForExit(child, 15_000))) {
        child.kill('SIGKILL');
        await waitForExit(child, 5000);
      }
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await waitForExit(child, 5000);
    },
    signal(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
  try {
    await waitUntilServing(url, child, output);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

/** Starts `count` servers side by side; on any failure, stops the ones already up. */
export async function startServers(count: number, spec: ServerSpec): Promise<ServerProcess[]> {
  const started = await Promise.allSettled(Array.from({ length: count }, () => startServer(spec)));
  const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await stopServers(servers);
    throw failed.reason;
  }
  return servers;
}

/** Stops servers together and waits for every one to exit. */
export async function stopServers(servers: ServerProcess[]): Promise<void> {
  await Promise.all(servers.map((s) => s.stop()));
}
