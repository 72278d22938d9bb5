import { readdir, readFile } from 'node:fs/promises';
import { cpus } from 'node:os';

/** Who used the machine's CPU during a run, in percent of one core (a 2-core box has 200 %). */
export type CpuShares = Record<'api' | 'generator' | 'postgres' | 'redis' | 'other' | 'idle', number>;

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

async function processTicks(): Promise<Map<number, { comm: string; ticks: number }>> {
  const result = new Map<number, { comm: string; ticks: number }>();
  let entries: string[] = [];
  try {
    entries = await readdir('/proc');
  } catch {
    return result; // not Linux: no census
  }
  await Promise.all(
    entries
      .filter((name) => /^\d+$/.test(name))
      .map(async (name) => {
        try {
          const stat = await readFile(`/proc/${name}/stat`, 'utf8');
          const close = stat.lastIndexOf(')');
          const comm = stat.slice(stat.indexOf('(') + 1, close);
          const fields = stat.slice(close + 2).split(' ');
          // fields[11] and [12] are utime and stime (fields 14 and 15 of the whole line)
          result.set(Number(name), { comm, ticks: Number(fields[11]) + Number(fields[12]) });
        } catch {
          // the process exited between readdir and readFile
        }
      }),
  );
  return result;
}

/**
 * Samples /proc once a second and attributes CPU time to the API servers, this generator,
 * Postgres, Redis and everything else, so a report shows whether the box itself was the limit
 * and whether something outside the test was competing with it.
 */
export function startCpuCensus(serverPids: number[]): { stop(): Promise<CpuShares> } {
  const servers = new Set(serverPids);
  const totals: CpuShares = { api: 0, generator: 0, postgres: 0, redis: 0, other: 0, idle: 0 };
  const startedAt = performance.now();
  let last: Map<number, { comm: string; ticks: number }> | undefined;
  const classify = (pid: number, comm: string): keyof CpuShares => {
    if (servers.has(pid)) return 'api';
    if (pid === process.pid) return 'generator';
    if (comm === 'postgres') return 'postgres';
    if (comm.startsWith('redis-server')) return 'redis';
    return 'other';
  };
  const sample = async () => {
    const now = await processTicks();
    if (last) {
      for (const [pid, { comm, ticks }] of now) {
        const before = last.get(pid);
        const delta = before && before.comm === comm ? ticks - before.ticks : 0;
        if (delta > 0) totals[classify(pid, comm)] += delta;
      }
    }
    last = now;
  };
  let chain = sample();
  const timer = setInterval(() => {
    chain = chain.then(sample, sample);
  }, 1000);
  return {
    async stop() {
      clearInterval(timer);
      await chain.then(sample, sample);
      const seconds = (performance.now() - startedAt) / 1000;
      const shares = { ...totals };
      let busy = 0;
      for (const key of ['api', 'generator', 'postgres', 'redis', 'other'] as const) {
        shares[key] = Math.round((totals[key] / TICKS_PER_SECOND / seconds) * 1000) / 10;
        busy += shares[key];
      }
      shares.idle = Math.max(0, Math.round((cpus().length * 100 - busy) * 10) / 10);
      return shares;
    },
  };
}
