import { API_SCRIPT, FLOOR_SCRIPT } from './compile.js';
import { type CpuShares, startCpuCensus } from './cpu-census.js';
import {
  createLoadDatabase,
  type DatabaseCounters,
  databaseCounters,
  type SeededSale,
  seedSale,
  venueRows,
  waitForNoClients,
} from './database.js';
import { type LoadResult, runLoad } from './generator.js';
import { openClients } from './http-client.js';
import { checkInvariants, type InvariantResult } from './invariants.js';
import { type LiveResult, startSubscribers } from './live.js';
import type { Contender, LoadOptions } from './options.js';
import { type ServerProcess, type ServerSpec, startServers, stopServers } from './processes.js';
import { formatTick } from './progress.js';
import { commandCounts, commandDelta, deleteKeys, lockedSeats } from './redis-stats.js';
import { groupSaleOf } from './scenarios/multi-seat-checks.js';
import { groupPurchaseBody } from './scenarios/multi-seat-target.js';
import { connectRedis, REDIS_URL, sleep } from './services.js';
import { purchaseBody, targetFor } from './targets.js';
import { type BodyOf, type WarmUpTarget, warmUp } from './warm-up.js';

/** What every contender of one invocation shares. */
export interface RunContext {
  options: LoadOptions;
  runId: string;
  jwtSecret: string;
  authorizations: string[];
  /** Clean-ups to run if the invocation is interrupted. */
  cleanups: Set<() => Promise<void>>;
}

/** Everything measured for one contender (a strategy or the floor server) in one scenario. */
export interface ContenderResult {
  contender: Contender;
  scenario: string;
  instances: number;
  database: string | null;
  load: LoadResult;
  attemptsPerSecond: number;
  /** CPU by owner during the load, in percent of one core; `other` is anything outside the test. */
  cpu: CpuShares;
  /**
   * `sold` counts seats (SQL, or the floor's wins × group). `salesPerSecond` is wins (orders) per
   * second to the last win. multi-seat: `soldOut` means no block of `group` adjacent seats is left.
   */
  sale: {
    seats: number;
    sold: number;
    soldOut: boolean;
    salesPerSecond: number | null;
    /** multi-seat only: seats per order, the event's per-customer limit, orders, free blocks left. */
    group?: { size: number; perCustomerLimit: number; orders: number; freeBlocks: number };
  };
  /**
   * Transactions of the load database during the load, net of each server's start-up and warm-up
   * (measured on a calibration instance) and of 2 per connection opened beyond those (the backend's
   * own start-up and postgres.js' type fetch, both measured).
   */
  pg: {
    transactions: number;
    raw: number;
    startupPerInstance: DatabaseCounters;
    connectionsOpened: number;
    perAttempt: number;
    perSale: number | null;
  } | null;
  /**
   * `commands` counts every client of the Redis server (INFO commandstats). `lockedSeats`: the sale's
   * seats with a ticket-lock key under this contender's own prefix, i.e. sold (or held) through the
   * Redis lock; null for the floor.
   */
  redis: { commands: Record<string, number>; total: number; perAttempt: number; lockedSeats: number | null };
  invariants: InvariantResult[] | null;
  /** The `live` scenario's subscribers; null otherwise. */
  live: LiveResult | null;
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

function serverSpec(ctx: RunContext, contender: Contender, databaseUrl: string | null, prefix: string): ServerSpec {
  const { options } = ctx;
  const common = { NODE_ENV: 'production', REDIS_URL, REDIS_KEY_PREFIX: prefix };
  const cpuProfDir = options.cpuProf ? `${options.outDir}/profiles/${ctx.runId}-${contender}` : undefined;
  if (contender === 'floor' || !databaseUrl) return { script: FLOOR_SCRIPT, env: common, cpuProfDir };
  return {
    script: API_SCRIPT,
    cpuProfDir,
    env: {
      ...common,
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_SIZE: String(options.dbPoolSize),
      JWT_SECRET: ctx.jwtSecret,
      SEED_DEMO: 'false',
      PURCHASE_STRATEGY: contender,
      // Buyers here retry far more often than people do; the per-customer budget would turn the
      // benchmark into a test of the rate limiter.
      PURCHASE_RATE_LIMIT: '0',
      LOCK_TTL_MS: String(options.lockTtlMs),
    },
  };
}

/** Each new Postgres connection costs 2 transactions: the backend's start-up and postgres.js' type fetch. */
const TRANSACTIONS_PER_CONNECTION = 2;

/**
 * What one API start, warm-up and graceful stop cost Postgres (the migration check, the warm-up's
 * purchases, the connections they open), measured on the run's database with a throw-away instance.
 */
async function startupCost(
  spec: ServerSpec,
  dbName: string,
  authorizations: string[],
  targets: (servers: ServerProcess[]) => WarmUpTarget[],
  purchases: number,
  bodyOf: BodyOf,
): Promise<DatabaseCounters> {
  const before = await databaseCounters(dbName);
  const servers = await startServers(1, { ...spec, cpuProfDir: undefined });
  try {
    await warmUp(targets(servers), authorizations, purchases, bodyOf);
  } finally {
    await stopServers(servers);
  }
  await waitForNoClients(dbName);
  const after = await databaseCounters(dbName);
  return { transactions: after.transactions - before.transactions, sessions: after.sessions - before.sessions };
}

/** Runs the scenario once for one contender: fresh database and key prefix, servers, load, counters, invariants. */
export async function runContender(ctx: RunContext, contender: Contender): Promise<ContenderResult> {
  const { options } = ctx;
  const seats = options.scenario === 'hot-seat' ? 1 : options.seats;
  const multi = options.scenario === 'multi-seat';
  const { group } = options;
  const rowLengths = venueRows(seats);
  const bodyOf: BodyOf = multi ? groupPurchaseBody : (ids) => purchaseBody(ids[0] ?? '');
  const label = `${ctx.runId}_${contender}`;
  const prefix = `flux-load:${ctx.runId}:${contender}:`;
  const redis = await connectRedis();
  const database = contender === 'floor' ? null : await createLoadDatabase(label);
  const dropDatabase = async () => {
    if (database && !options.keep) await database.drop();
  };
  ctx.cleanups.add(dropDatabase);
  let servers: ServerProcess[] = [];
  const stopAll = () => stopServers(servers);
  ctx.cleanups.add(stopAll);
  try {
    // multi-seat: each customer may buy one group (the event's limit is the group size).
    const perCustomerLimit = multi ? group : null;
    const sale: SeededSale = database
      ? await seedSale(database.url, seats, { perCustomerLimit })
      : { eventId: '', eventGlobalId: '', ticketIds: [], ticketGlobalIds: syntheticIds('floor', seats) };
    // One warm-up seat (group) for the calibration instance and one per measured instance.
    const warmUpSeats = (options.instances + 1) * group;
    const warmUpSale = database
      ? await seedSale(database.url, warmUpSeats, { name: 'Warm-up' })
      : { eventId: '', ticketGlobalIds: syntheticIds('warm-up', warmUpSeats) };
    const warmUpTargets = (offset: number) => (started: ServerProcess[]) =>
      started.map((server, i) => ({
        server,
        seatGlobalIds: warmUpSale.ticketGlobalIds.slice((offset + i) * group, (offset + i + 1) * group),
        eventId: database ? warmUpSale.eventId : null,
      }));
    const spec = serverSpec(ctx, contender, database?.url ?? null, prefix);
    const startup = database
      ? await startupCost(spec, database.name, ctx.authorizations, warmUpTargets(0), options.warmUp, bodyOf)
      : { transactions: 0, sessions: 0 };
    const before = database ? await databaseCounters(database.name) : { transactions: 0, sessions: 0 };
    servers = await startServers(options.instances, spec);
    await warmUp(warmUpTargets(1)(servers), ctx.authorizations, options.warmUp, bodyOf);
    const connections =
      options.shape.kind === 'open' ? options.httpConnections : Math.ceil(options.shape.connections / servers.length);
    const clients = openClients(
      servers.map((s) => s.url),
      connections,
    );
    const target = targetFor(options.scenario, { ticketGlobalIds: sale.ticketGlobalIds, rowLengths, group });
    const subscribers =
      options.subscribers > 0 && database
        ? await startSubscribers(
            servers.map((s) => s.url),
            sale.eventGlobalId,
            options.subscribers,
          )
        : null;
    subscribers?.startMeasuring();
    const redisBefore = await commandCounts(redis);
    let load: LoadResult;
    const census = startCpuCensus(servers.map((s) => s.pid));
    let cpu: CpuShares;
    try {
      load = await runLoad({
        clients,
        target,
        authorizations: ctx.authorizations,
        shape: options.shape,
        durationMs: options.durationMs,
        maxInFlight: options.maxInFlight,
        onTick: options.quiet ? undefined : (tick, totals) => console.error(formatTick(contender, tick, totals)),
      });
    } finally {
      cpu = await census.stop();
      await clients.close();
    }
    const redisCommands = commandDelta(redisBefore, await commandCounts(redis));
    const seatsLocked = database ? await lockedSeats(redis, prefix, sale.ticketIds) : null;
    const live = subscribers ? await subscribers.stop() : null;
    await stopAll();
    servers = [];

    let pg: ContenderResult['pg'] = null;
    let invariants: InvariantResult[] | null = null;
    let sold = load.wins * group;
    let orders = load.wins;
    let freeBlocks = 'openBlocks' in target ? target.openBlocks() : 0;
    if (database) {
      await waitForNoClients(database.name);
      const after = await databaseCounters(database.name);
      const raw = after.transactions - before.transactions;
      const connectionsOpened = after.sessions - before.sessions - startup.sessions * options.instances;
      const transactions =
        raw - startup.transactions * options.instances - TRANSACTIONS_PER_CONNECTION * connectionsOpened;
      pg = {
        transactions,
        raw,
        startupPerInstance: startup,
        connectionsOpened,
        perAttempt: round(transactions / Math.max(1, load.completed), 3),
        perSale: load.wins > 0 ? round(transactions / load.wins, 2) : null,
      };
      const unanswered = Object.values(load.errors).reduce((a, b) => a + b, 0);
      const checked = await checkInvariants(database.url, sale.eventId, {
        wins: load.wins,
        unanswered,
        group:
          'wonBlocks' in target && perCustomerLimit !== null
            ? groupSaleOf(target, sale.ticketIds, rowLengths, perCustomerLimit)
            : undefined,
      });
      invariants = checked.results;
      sold = checked.counts.sold;
      orders = checked.counts.orders;
      freeBlocks = checked.counts.freeBlocks ?? 0;
    }
    const redisTotal = Object.values(redisCommands).reduce((a, b) => a + b, 0);
    const elapsedS = load.elapsedMs / 1000;
    return {
      contender,
      scenario: options.scenario,
      instances: options.instances,
      database: database?.name ?? null,
      load,
      attemptsPerSecond: Math.round(load.completed / elapsedS),
      cpu,
      sale: {
        seats,
        sold,
        soldOut: multi ? freeBlocks === 0 : sold === seats,
        salesPerSecond: load.lastWinMs ? Math.round(load.wins / (load.lastWinMs / 1000)) : null,
        ...(perCustomerLimit !== null ? { group: { size: group, perCustomerLimit, orders, freeBlocks } } : {}),
      },
      pg,
      redis: {
        commands: redisCommands,
        total: redisTotal,
        perAttempt: round(redisTotal / Math.max(1, load.completed), 3),
        lockedSeats: seatsLocked,
      },
      invariants,
      live,
    };
  } finally {
    await stopAll();
    ctx.cleanups.delete(stopAll);
    await dropDatabase();
    ctx.cleanups.delete(dropDatabase);
    if (!options.keep) await deleteKeys(redis, prefix);
    redis.disconnect();
    await sleep(options.quiet ? 500 : 2000); // let Postgres and Redis settle before the next contender
  }
}

/** The floor server has no database: its "tickets" are just distinct ids. */
function syntheticIds(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => Buffer.from(`Ticket:${prefix}-${i}`).toString('base64'));
}
