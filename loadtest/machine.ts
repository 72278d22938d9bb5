import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { adminSql, connectRedis } from './services.js';

/** The box a run was measured on: the figures mean nothing without it. */
export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  postgres: string;
  redis: string;
  loadAverageAtStart: number[];
  /** The code under test: a commit, `+dirty` when the work tree had uncommitted changes. */
  revision: string;
}

/** `git describe` of the tree the servers run from, or LOADTEST_REVISION when there is no git. */
export function revisionOf(root: string): string {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const commit = git('rev-parse', '--short', 'HEAD');
    return git('status', '--porcelain', '--untracked-files=no') ? `${commit}+dirty` : commit;
  } catch {
    return process.env.LOADTEST_REVISION ?? 'unknown';
  }
}

/** Describes this machine and the Postgres and Redis servers the run used. */
export async function describeMachine(root: string): Promise<Machine> {
  const sql = adminSql();
  let postgresVersion = 'unknown';
  try {
    const [row] = await sql<{ v: string }[]>`select current_setting('server_version') as v`;
    postgresVersion = row?.v ?? postgresVersion;
  } finally {
    await sql.end({ timeout: 2 });
  }
  const redis = await connectRedis();
  let redisVersion = 'unknown';
  try {
    redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? redisVersion;
  } finally {
    redis.disconnect();
  }
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    postgres: postgresVersion,
    redis: redisVersion,
    loadAverageAtStart: loadavg().map((n) => Math.round(n * 100) / 100),
    revision: revisionOf(root),
  };
}

/** One line for reports: `2 × CPU model, 23 GiB, Linux …, Node …, PostgreSQL …, Redis …`. */
export function machineLine(m: Machine): string {
  return `${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB RAM, Linux ${m.kernel}, Node ${m.node}, PostgreSQL ${m.postgres}, Redis ${m.redis} (load average at start ${m.loadAverageAtStart.join(' / ')}); code ${m.revision}`;
}
