import type { RedisConnection } from '../src/infra/redis-client.js';
import type { OwnRedisCluster } from '../test/helpers/redis-cluster.js';
import type { OwnRedis } from '../test/helpers/redis-server.js';
import { API_SCRIPT, FLOOR_SCRIPT } from './compile.js';
import type { DatabaseCounters, LoadDatabase, SeededSale } from './database.js';
import { type Contender, contenderServer, type LoadOptions } from './options.js';
import { type ServerProcess, type ServerSpec, stopServers } from './processes.js';
import { deleteKeys } from './redis-stats.js';
import type { SalePlan, Venue } from './scenarios/scenario.js';
import { REDIS_URL } from './services.js';
import type { StatementCounter } from './statement-counter.js';
import type { WarmUpTarget } from './warm-up.js';

/** What every contender of one invocation shares. */
export interface RunContext {
  options: LoadOptions;
  /** The scenario, configured by the options. */
  plan: SalePlan;
  runId: string;
  jwtSecret: string;
  authorizations: string[];
  /** Clean-ups to run if the invocation is interrupted. */
  cleanups: Set<() => Promise<void>>;
}

/** One contender's run, as the phases of `runContender` (run-one.ts) fill it in. */
export interface ContenderRun {
  ctx: RunContext;
  contender: Contender;
  /** This contender's own Redis key prefix. */
  prefix: string;
  redis: RedisConnection | null;
  /** The Redis Cluster of the run's own (`redis-lock-cluster` only). */
  cluster: OwnRedisCluster | null;
  /** The redis-server of the run's own, when it is compared with a cluster (`--redis cluster`). */
  ownRedis: OwnRedis | null;
  /** Null for the floor, which has no database. */
  database: LoadDatabase | null;
  /** The servers' way to the database when the plan counts statements (SalePlan.countStatements). */
  statements: StatementCounter | null;
  sale: SeededSale;
  venue: Venue;
  /** Seats of the warm-up event, a group per server (the calibration instance's first). */
  warmUpSale: { eventId: string | null; ticketGlobalIds: string[] };
  spec: ServerSpec;
  servers: ServerProcess[];
  /** Postgres' counters before the measured servers started, and what one start-up and warm-up cost. */
  before: DatabaseCounters;
  startup: DatabaseCounters;
}

const NOTHING: DatabaseCounters = { transactions: 0, sessions: 0 };

/** A run with nothing done yet: its key prefix, and empty state for the phases to fill in. */
export function newRun(ctx: RunContext, contender: Contender): ContenderRun {
  const empty = { eventId: '', eventGlobalId: '', ticketIds: [], ticketGlobalIds: [] };
  return {
    ctx,
    contender,
    prefix: `flux-load:${ctx.runId}:${contender}:`,
    redis: null,
    cluster: null,
    ownRedis: null,
    database: null,
    statements: null,
    sale: empty,
    venue: { ticketIds: [], ticketGlobalIds: [], rowLengths: [] },
    warmUpSale: { eventId: null, ticketGlobalIds: [] },
    spec: { script: API_SCRIPT, env: {} },
    servers: [],
    before: NOTHING,
    startup: NOTHING,
  };
}

/** Stops the servers, drops the database and the Redis keys (unless `--keep`); safe to call twice. */
export async function cleanUp(run: ContenderRun): Promise<void> {
  const { keep } = run.ctx.options;
  await stopServers(run.servers);
  await run.statements?.close();
  run.statements = null;
  if (run.database && !keep) await run.database.drop();
  if (run.redis) {
    if (!keep) await deleteKeys(run.redis, run.prefix);
    run.redis.disconnect();
    run.redis = null;
  }
  await run.cluster?.stop();
  run.cluster = null;
  await run.ownRedis?.stop();
  run.ownRedis = null;
}

/** The compiled server a contender runs (compile.ts), and its environment. */
export function serverSpec(run: ContenderRun): ServerSpec {
  const { options, plan, jwtSecret, runId } = run.ctx;
  const redis: Record<string, string> = run.cluster
    ? { REDIS_CLUSTER_NODES: run.cluster.nodesEnv }
    : { REDIS_URL: run.ownRedis?.url ?? REDIS_URL };
  const common = { NODE_ENV: 'production', CORS_ORIGINS: '*', ...redis, REDIS_KEY_PREFIX: run.prefix };
  const cpuProfDir = options.cpuProf ? `${options.outDir}/profiles/${runId}-${run.contender}` : undefined;
  if (!run.database || run.contender === 'floor') {
    return { script: FLOOR_SCRIPT, env: { ...common, ...plan.serverEnv }, cpuProfDir };
  }
  const server = contenderServer(run.contender);
  return {
    script: API_SCRIPT,
    cpuProfDir,
    env: {
      ...common,
      DATABASE_URL: run.statements?.url ?? run.database.url,
      DATABASE_POOL_SIZE: String(options.dbPoolSize),
      JWT_SECRET: jwtSecret,
      SEED_DEMO: 'false',
      PURCHASE_STRATEGY: server.strategy,
      // Buyers here retry far more often than people do; the per-customer budget would turn the
      // benchmark into a test of the rate limiter.
      PURCHASE_RATE_LIMIT: '0',
      // Every subscriber of a live run connects from the generator's one address.
      WS_MAX_CONNECTIONS_PER_ADDRESS: '100000',
      LOCK_TTL_MS: String(options.lockTtlMs),
      ...server.env,
      ...plan.serverEnv,
    },
  };
}

/** Each server's warm-up group of seats; `offset` 0 is the calibration instance's, 1 the first measured one's. */
export function warmUpTargets(run: ContenderRun, servers: ServerProcess[], offset: number): WarmUpTarget[] {
  const group = run.ctx.plan.seatsPerPurchase;
  return servers.map((server, i) => ({
    server,
    seatGlobalIds: run.warmUpSale.ticketGlobalIds.slice((offset + i) * group, (offset + i + 1) * group),
    eventId: run.warmUpSale.eventId,
  }));
}

/** The floor server has no database: its "tickets" are just distinct ids. */
export function syntheticIds(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => Buffer.from(`Ticket:${prefix}-${i}`).toString('base64'));
}
