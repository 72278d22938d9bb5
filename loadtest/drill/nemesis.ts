import { Redis } from 'ioredis';
import type { OwnRedis } from '../../test/helpers/redis-server.js';
import { type ServerProcess, type ServerSpec, startServer } from '../processes.js';
import { adminSql, sleep } from '../services.js';

/** The faults a drill can inject. */
export const NEMESES = ['kill', 'stop', 'redis-restart', 'redis-flush', 'pg-terminate'] as const;
export type NemesisName = (typeof NEMESES)[number];

/** What a nemesis may touch: the instances (and how to start one again), the drill's own Redis, its database. */
export interface Targets {
  servers: ServerProcess[];
  spec: ServerSpec;
  redis: OwnRedis;
  databaseName: string;
  lockTtlMs: number;
  /** How long Redis stays down in `redis-restart`. */
  redisDownMs: number;
}

/** One injected fault: when it began and ended (epoch ms), and what it did. */
export interface Fault {
  nemesis: NemesisName;
  start: number;
  end: number;
  /** The instance it hit, for kill and stop. */
  instance: number | null;
  detail: string;
}

/**
 * Injects one fault and returns once it is over:
 * - `kill`: SIGKILL instance 1, then start it again on its port (the fault ends when it serves);
 * - `stop`: SIGSTOP instance 1 for the lock TTL plus a second, then SIGCONT;
 * - `redis-restart`: SIGKILL the drill's Redis, leave it down `redisDownMs`, start it again empty;
 * - `redis-flush`: FLUSHALL on the drill's Redis;
 * - `pg-terminate`: pg_terminate_backend for every backend of the drill's database (only that one).
 */
export async function inject(nemesis: NemesisName, targets: Targets): Promise<Fault> {
  const victim = Math.min(1, targets.servers.length - 1);
  const start = Date.now();
  const done = (detail: string, instance: number | null = null): Fault => ({
    nemesis,
    start,
    end: Date.now(),
    instance,
    detail,
  });
  switch (nemesis) {
    case 'kill': {
      const server = targets.servers[victim] as ServerProcess;
      await server.kill();
      const killedAt = Date.now() - start;
      targets.servers[victim] = await startServer({ ...targets.spec, port: server.port });
      return done(`SIGKILL instance ${victim} (exited after ${killedAt} ms), started again on its port`, victim);
    }
    case 'stop': {
      const server = targets.servers[victim] as ServerProcess;
      const pauseMs = targets.lockTtlMs + 1000;
      server.signal('SIGSTOP');
      await sleep(pauseMs);
      server.signal('SIGCONT');
      return done(`SIGSTOP instance ${victim} for ${pauseMs} ms (lock TTL + 1 s), then SIGCONT`, victim);
    }
    case 'redis-restart': {
      await targets.redis.kill();
      await sleep(targets.redisDownMs);
      await targets.redis.restart();
      return done(`SIGKILL redis-server, down ${targets.redisDownMs} ms, started again empty`);
    }
    case 'redis-flush': {
      const redis = new Redis(targets.redis.url, { maxRetriesPerRequest: 1 });
      try {
        await redis.flushall();
      } finally {
        redis.disconnect();
      }
      return done('FLUSHALL');
    }
    case 'pg-terminate': {
      const sql = adminSql();
      try {
        const rows = await sql<{ ok: boolean }[]>`
          select pg_terminate_backend(pid) as ok from pg_stat_activity
          where datname = ${targets.databaseName} and pid <> pg_backend_pid()`;
        return done(`pg_terminate_backend: ${rows.filter((r) => r.ok).length} backends of ${targets.databaseName}`);
      } finally {
        await sql.end({ timeout: 2 });
      }
    }
  }
}
