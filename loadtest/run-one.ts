import { startOwnRedisCluster } from '../test/helpers/redis-cluster.js';
import { startOwnRedis } from '../test/helpers/redis-server.js';
import type { ContenderResult } from './contender-result.js';
import {
  type ContenderRun,
  cleanUp,
  newRun,
  type RunContext,
  serverSpec,
  syntheticIds,
  warmUpTargets,
} from './contender-run.js';
import { type CpuShares, startCpuCensus } from './cpu-census.js';
import { createLoadDatabase, databaseCounters, seedSale, venueRows, waitForNoClients } from './database.js';
import { type LoadResult, runLoad } from './generator.js';
import { openClients } from './http-client.js';
import { checkInvariants, type InvariantResult } from './invariants.js';
import { type LiveResult, type Subscribers, startSubscribers } from './live.js';
import { type Contender, ON_CLUSTER } from './options.js';
import { startServers, stopServers } from './processes.js';
import { formatTick } from './progress.js';
import { commandCounts, commandDelta, cpuDelta, lockedSeats, serverCount } from './redis-stats.js';
import type { SaleRun } from './scenarios/scenario.js';
import { connectCluster, connectRedis, sleep } from './services.js';
import { startStatementCounter } from './statement-counter.js';
import { warmUp } from './warm-up.js';

/** What the load phase measured, and the run's handles the later phases need. */
interface Loaded {
  load: LoadResult;
  cpu: CpuShares;
  saleRun: SaleRun;
  subscribers: Subscribers | null;
  redisCommands: Record<string, number>;
  /** CPU seconds of the Redis servers (every master of a cluster) during the load. */
  redisCpuSeconds: number;
  lockedSeats: number | null;
}

/** Each new Postgres connection costs 2 transactions: the backend's start-up and postgres.js' type fetch. */
const TRANSACTIONS_PER_CONNECTION = 2;
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/**
 * Runs the scenario once for one contender, phase by phase: prepare its database, start its servers,
 * warm them up, offer the load, drain, check the invariants, and put the figures together. Whatever
 * happens, its servers stop and its database and Redis keys go (unless `--keep`).
 */
export async function runContender(ctx: RunContext, contender: Contender): Promise<ContenderResult> {
  const run = newRun(ctx, contender);
  const clean = () => cleanUp(run);
  ctx.cleanups.add(clean);
  try {
    await prepareDatabase(run);
    await startContenderServers(run);
    await warmUpServers(run);
    const loaded = await offerLoad(run);
    const drained = await drain(run, loaded);
    const checked = await checkSaleInvariants(run, loaded);
    return contenderResult(run, loaded, drained, checked);
  } finally {
    ctx.cleanups.delete(clean);
    await clean();
    await sleep(ctx.options.quiet ? 500 : 2000); // let Postgres and Redis settle before the next contender
  }
}

/**
 * Phase 1: a fresh migrated database with the sale and a warm-up event seeded (the floor: synthetic
 * ids). The warm-up event's holds last an hour, so a warm-up hold outlasts the warm-up. A plan that
 * counts statements gets its counting proxy in front of the database here.
 */
async function prepareDatabase(run: ContenderRun): Promise<void> {
  const { options, plan, runId } = run.ctx;
  if (run.contender === ON_CLUSTER) {
    run.cluster = await startOwnRedisCluster();
    run.redis = await connectCluster(run.cluster);
  } else if (options.redis === 'cluster') {
    run.ownRedis = await startOwnRedis();
    run.redis = await connectRedis(run.ownRedis.url);
  } else run.redis = await connectRedis();
  // One warm-up group for the calibration instance and one per measured instance.
  const warmUpSeats = (options.instances + 1) * plan.seatsPerPurchase;
  if (run.contender === 'floor') {
    run.sale = { ...run.sale, ticketGlobalIds: syntheticIds('floor', plan.seats) };
    run.warmUpSale = { eventId: null, ticketGlobalIds: syntheticIds('warm-up', warmUpSeats) };
  } else {
    const database = await createLoadDatabase(`${runId}_${run.contender}`);
    run.database = database;
    const marks = { redis: run.redis, prefix: run.prefix };
    run.sale = await seedSale(database.url, plan.seats, {
      perCustomerLimit: plan.perCustomerLimit,
      layout: plan.layout,
      marks,
    });
    run.warmUpSale = await seedSale(database.url, warmUpSeats, { name: 'Warm-up', holdMinutes: 60, marks });
    if (plan.countStatements) run.statements = await startStatementCounter(database.url);
  }
  run.venue = {
    ticketIds: run.sale.ticketIds,
    ticketGlobalIds: run.sale.ticketGlobalIds,
    rowLengths: venueRows(plan.seats),
  };
  run.spec = serverSpec(run);
}

/**
 * Phase 2: measure what one server's start, warm-up and stop cost Postgres on a throw-away instance
 * (the migration check, the warm-up's purchases, the connections they open), then start the measured
 * servers.
 */
async function startContenderServers(run: ContenderRun): Promise<void> {
  const { options, authorizations, plan } = run.ctx;
  const { database } = run;
  if (database) {
    const before = await databaseCounters(database.name);
    const calibration = await startServers(1, { ...run.spec, cpuProfDir: undefined });
    try {
      await warmUp(
        warmUpTargets(run, calibration, 0),
        authorizations,
        options.warmUp,
        plan.warmUpBodyOf ?? plan.bodyOf,
      );
    } finally {
      await stopServers(calibration);
    }
    await waitForNoClients(database.name);
    const after = await databaseCounters(database.name);
    run.startup = {
      transactions: after.transactions - before.transactions,
      sessions: after.sessions - before.sessions,
    };
    run.before = await databaseCounters(database.name);
  }
  run.servers = await startServers(options.instances, run.spec);
}

/** Phase 3: each server warms up as a server that has been up before the sale opens is warm (warm-up.ts). */
async function warmUpServers(run: ContenderRun): Promise<void> {
  const { options, authorizations, plan } = run.ctx;
  await warmUp(warmUpTargets(run, run.servers, 1), authorizations, options.warmUp, plan.warmUpBodyOf ?? plan.bodyOf);
}

/**
 * Phase 4: the scenario's own start (SaleRun.begin), subscribers (live) watching, the generator
 * drives the sale, CPU and Redis counted around it; then the scenario's own follow-ups to their end
 * (SaleRun.end), with the servers still up.
 */
async function offerLoad(run: ContenderRun): Promise<Loaded> {
  const { options, plan, authorizations } = run.ctx;
  const { servers, redis, database } = run;
  if (!redis) throw new Error('offerLoad: the run has no Redis connection');
  const urls = servers.map((s) => s.url);
  const connections =
    options.shape.kind === 'open' ? options.httpConnections : Math.ceil(options.shape.connections / servers.length);
  const saleRun = plan.start(run.venue);
  await saleRun.begin?.({
    options,
    urls,
    eventGlobalId: run.sale.eventGlobalId,
    authorizations,
    statements: run.statements,
  });
  const clients = openClients(urls, connections);
  const subscribers =
    options.subscribers > 0 && database
      ? await startSubscribers(urls, run.sale.eventGlobalId, options.subscribers)
      : null;
  subscribers?.startMeasuring();
  const redisBefore = await commandCounts(redis);
  const census = startCpuCensus(servers.map((s) => s.pid));
  let load: LoadResult;
  let cpu: CpuShares;
  try {
    load = await runLoad({
      clients,
      target: saleRun.target,
      authorizations,
      shape: options.shape,
      durationMs: options.durationMs,
      maxInFlight: options.maxInFlight,
      onTick: options.quiet ? undefined : (tick, totals) => console.error(formatTick(run.contender, tick, totals)),
    });
  } finally {
    cpu = await census.stop();
    await clients.close();
  }
  await saleRun.end?.();
  const redisAfter = await commandCounts(redis);
  const redisCommands = commandDelta(redisBefore, redisAfter, serverCount(redis));
  const redisCpuSeconds = cpuDelta(redisBefore, redisAfter);
  const seatsLocked = database ? await lockedSeats(redis, run.prefix, run.sale.eventId, run.sale.ticketIds) : null;
  return { load, cpu, saleRun, subscribers, redisCommands, redisCpuSeconds, lockedSeats: seatsLocked };
}

/**
 * Phase 5: the generator has had its last answers (or given up on them); now the live fan-out's last
 * window, the servers' graceful stop and their Postgres backends' exit, after which Postgres'
 * counters are complete (PG 15 flushes a backend's counters when it exits).
 */
async function drain(
  run: ContenderRun,
  loaded: Loaded,
): Promise<{ live: LiveResult | null; pg: ContenderResult['pg'] }> {
  const live = loaded.subscribers ? await loaded.subscribers.stop() : null;
  await stopServers(run.servers);
  run.servers = [];
  const { database, startup, before } = run;
  if (!database) return { live, pg: null };
  const { instances } = run.ctx.options;
  await waitForNoClients(database.name);
  const after = await databaseCounters(database.name);
  const raw = after.transactions - before.transactions;
  const connectionsOpened = after.sessions - before.sessions - startup.sessions * instances;
  const transactions = raw - startup.transactions * instances - TRANSACTIONS_PER_CONNECTION * connectionsOpened;
  const { completed } = loaded.load;
  const { orders: wins } = bought(run, loaded);
  return {
    live,
    pg: {
      transactions,
      raw,
      startupPerInstance: startup,
      connectionsOpened,
      perAttempt: round(transactions / Math.max(1, completed), 3),
      perSale: wins > 0 ? round(transactions / wins, 2) : null,
    },
  };
}

/** What buyers saw bought: the scenario's own count (SaleRun.bought), or the load's wins. */
function bought(run: ContenderRun, { load, saleRun }: Loaded): { orders: number; seats: number; unanswered: number } {
  return (
    saleRun.bought?.() ?? {
      orders: load.wins,
      seats: load.wins * run.ctx.plan.seatsPerPurchase,
      unanswered: sum(load.errors),
    }
  );
}

/** Phase 6: the invariants in SQL, the scenario's own after the common ones; the floor has none. */
async function checkSaleInvariants(
  run: ContenderRun,
  loaded: Loaded,
): Promise<{ invariants: InvariantResult[] | null; sold: number; orders: number }> {
  const { seatsPerPurchase } = run.ctx.plan;
  const seen = bought(run, loaded);
  if (!run.database) return { invariants: null, sold: seen.seats, orders: seen.orders };
  const checked = await checkInvariants(run.database.url, run.sale.eventId, {
    wins: seen.orders,
    unanswered: seen.unanswered,
    seatsPerOrder: seatsPerPurchase,
    seats: loaded.saleRun.bought ? seen.seats : undefined,
    checks: loaded.saleRun.checks,
  });
  return { invariants: checked.results, sold: checked.counts.sold, orders: checked.counts.orders };
}

/** Phase 7: everything measured for this contender, as the report shows it. */
function contenderResult(
  run: ContenderRun,
  { load, cpu, saleRun, redisCommands, redisCpuSeconds, lockedSeats }: Loaded,
  { live, pg }: Awaited<ReturnType<typeof drain>>,
  { invariants, sold, orders }: Awaited<ReturnType<typeof checkSaleInvariants>>,
): ContenderResult {
  const { options, plan } = run.ctx;
  const redisTotal = sum(redisCommands);
  return {
    contender: run.contender,
    scenario: options.scenario,
    instances: options.instances,
    database: run.database?.name ?? null,
    load,
    attemptsPerSecond: Math.round(load.completed / (load.elapsedMs / 1000)),
    cpu,
    sale: {
      seats: plan.seats,
      sold,
      salesPerSecond: load.lastWinMs ? Math.round(load.wins / (load.lastWinMs / 1000)) : null,
      ...saleRun.figures({ sold, orders }),
    },
    pg,
    redis: {
      commands: redisCommands,
      total: redisTotal,
      perAttempt: round(redisTotal / Math.max(1, load.completed), 3),
      cpuMicrosPerAttempt: round((redisCpuSeconds * 1e6) / Math.max(1, load.completed), 1),
      lockedSeats,
    },
    invariants,
    live,
  };
}
