import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';

const run = promisify(execFile);

/** One redis-server of the cluster. */
export interface ClusterNode {
  port: number;
  /** `127.0.0.1:<port>`, as `CLUSTER NODES` and `REDIS_CLUSTER_NODES` write it. */
  address: string;
  /** The server's process id (for its CPU time in /proc). */
  pid: number;
  /** True until it is killed. */
  alive: boolean;
}

/**
 * A Redis Cluster of a test's own: three masters and three replicas of Debian's `redis-server` on free
 * loopback ports, in a temporary directory of their own. Never the shared Redis on 6379.
 */
export interface OwnRedisCluster {
  nodes: readonly ClusterNode[];
  /** `REDIS_CLUSTER_NODES` for an app: every node's `host:port`. */
  nodesEnv: string;
  /** The master now serving `slot`, by asking a live node. */
  masterOf(slot: number): Promise<ClusterNode>;
  /** The slot ranges `[from, to]` a master serves now. */
  slotsOf(master: ClusterNode): Promise<number[][]>;
  /** SIGKILLs one node (a crashed machine: its replica must take over). */
  kill(node: ClusterNode): Promise<void>;
  /** Resolves once every slot is served by a live master again (`cluster_state:ok` on every live node). */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** How long a master may be silent before its replica is promoted; short, so the drill is quick. */
const NODE_TIMEOUT_MS = 1000;

async function waitForPing(port: number): Promise<void> {
  const probe = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on('error', () => {}); // refused until the server is up: expected here
  try {
    for (let i = 0; i < 100; i++) {
      try {
        if (probe.status !== 'ready') await probe.connect();
        await probe.ping();
        return;
      } catch {
        probe.disconnect();
        await sleep(50);
      }
    }
    throw new Error(`redis-server on port ${port} did not start`);
  } finally {
    probe.disconnect();
  }
}

/** Asks one node; `undefined` when it does not answer. */
async function ask(port: number, ...args: string[]): Promise<string | undefined> {
  try {
    const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 2000 });
    return stdout;
  } catch {
    return undefined;
  }
}

/**
 * Starts six nodes and joins them with `redis-cli --cluster create … --cluster-replicas 1`, then waits
 * until every node reports `cluster_state:ok`. The cluster bus uses a second free port per node
 * (`cluster-port`, Redis 7), so no port+10000 guess is needed.
 */
export async function startOwnRedisCluster(): Promise<OwnRedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'flux-redis-cluster-'));
  const children = new Map<number, ChildProcess>();
  const nodes: ClusterNode[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((node) => kill(node)));
    await rm(dir, { recursive: true, force: true });
  };
  const kill = async (node: ClusterNode) => {
    const child = children.get(node.port);
    node.alive = false;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  try {
    for (let i = 0; i < 6; i++) {
      const port = await freePort();
      const busPort = await freePort();
      const child = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--cluster-port',
          String(busPort),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          `nodes-${port}.conf`,
          '--cluster-node-timeout',
          String(NODE_TIMEOUT_MS),
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          'no',
          // The replica's first sync starts at once, not after the default 5 s wait for more replicas:
          // a replica that has never synced cannot be promoted.
          '--repl-diskless-sync-delay',
          '0',
          '--daemonize',
          'no',
        ],
        { stdio: 'ignore' },
      );
      children.set(port, child);
      nodes.push({ port, address: `127.0.0.1:${port}`, pid: child.pid ?? 0, alive: true });
    }
    await Promise.all(nodes.map((node) => waitForPing(node.port)));
    await run(
      'redis-cli',
      ['--cluster', 'create', ...nodes.map((n) => n.address), '--cluster-replicas', '1', '--cluster-yes'],
      {
        timeout: 30_000,
      },
    );
    const cluster: OwnRedisCluster = {
      nodes,
      nodesEnv: nodes.map((n) => n.address).join(','),
      masterOf: (slot) => masterOf(nodes, slot),
      slotsOf: async (master) => {
        const asked = nodes.find((n) => n.alive);
        return (asked && (await slotOwners(nodes, asked)).get(master)) ?? [];
      },
      kill,
      waitHealthy: (timeoutMs = 20_000) => waitHealthy(nodes, timeoutMs),
      stop,
    };
    await cluster.waitHealthy(30_000);
    await waitReplicasSynced(nodes, 30_000);
    return cluster;
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Waits until every replica's link to its master is up, so any master may be killed from then on. */
async function waitReplicasSynced(nodes: readonly ClusterNode[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const infos = await Promise.all(nodes.map((n) => ask(n.port, 'info', 'replication')));
    const replicas = infos.filter((info) => info?.includes('role:slave'));
    if (replicas.length === 3 && replicas.every((info) => info?.includes('master_link_status:up'))) return;
    await sleep(50);
  }
  throw new Error('the Redis cluster replicas did not sync');
}

/** The live masters' slot ranges, as one live node sees them; nodes flagged `fail` serve nothing. */
async function slotOwners(nodes: readonly ClusterNode[], asked: ClusterNode): Promise<Map<ClusterNode, number[][]>> {
  const owners = new Map<ClusterNode, number[][]>();
  const table = await ask(asked.port, 'cluster', 'nodes');
  for (const line of table?.trim().split('\n') ?? []) {
    const [, address = '', flags = '', , , , , , ...ranges] = line.split(' ');
    if (!flags.includes('master') || flags.includes('fail')) continue;
    const port = Number(address.split('@')[0]?.split(':')[1]);
    const node = nodes.find((n) => n.port === port && n.alive);
    if (!node) continue;
    const served = ranges.filter((r) => !r.startsWith('[')).map((r) => r.split('-').map(Number));
    owners.set(
      node,
      served.map(([from = 0, to = from]) => [from, to]),
    );
  }
  return owners;
}

/** True when `owners` serve all 16384 slots. */
function coversEverySlot(owners: Map<ClusterNode, number[][]>): boolean {
  let served = 0;
  for (const ranges of owners.values()) for (const [from = 0, to = 0] of ranges) served += to - from + 1;
  return served === 16384;
}

async function waitHealthy(nodes: readonly ClusterNode[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const live = nodes.filter((n) => n.alive);
    const infos = await Promise.all(live.map((n) => ask(n.port, 'cluster', 'info')));
    if (infos.every((info) => info?.includes('cluster_state:ok'))) {
      const views = await Promise.all(live.map((n) => slotOwners(nodes, n)));
      if (views.every(coversEverySlot)) return;
    }
    await sleep(50);
  }
  throw new Error('the Redis cluster did not become healthy');
}

async function masterOf(nodes: readonly ClusterNode[], slot: number): Promise<ClusterNode> {
  for (const asked of nodes.filter((n) => n.alive)) {
    for (const [node, ranges] of await slotOwners(nodes, asked)) {
      if (ranges.some(([from = 0, to = 0]) => slot >= from && slot <= to)) return node;
    }
  }
  throw new Error(`no live master serves slot ${slot}`);
}
