import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type OwnRedis, startOwnRedis } from '../../test/helpers/redis-server.js';
import { signBuyers } from '../buyers.js';
import { API_SCRIPT, compileServers } from '../compile.js';
import { createLoadDatabase, type LoadDatabase, seedSale } from '../database.js';
import { type ServerProcess, type ServerSpec, startServers, stopServers } from '../processes.js';
import { connectRedis, sleep } from '../services.js';
import { checkHistory, unknownsOf, type Verdict, type Window } from './checker.js';
import { type ConvergenceCheck, checkMaps, finalConvergence, resyncBlocksRead } from './convergence.js';
import { History, operationsOf } from './history.js';
import { LatencyTimeline } from './latency.js';
import { SeatPicker, startLoad } from './load.js';
import { marksWholeAfter } from './marks-watch.js';
import { type Fault, inject, NEMESES } from './nemesis.js';
import type { DrillOptions } from './options.js';
import { type DrillReport, drillSummary, killedHolds, writeDrillReport } from './report.js';
import { readSeatStates, readSnapshot, sqlInvariants } from './snapshot.js';
import { connectionSteps, LiveSeatMap } from './subscribers.js';
import { binsOf, faultFigures, quietRecovery } from './timeline.js';

/** Holds planted on the victim of a kill or stop just before it, two seats each from the venue's far end. */
const PLANTED_HOLDS = 3;
/** The servers' Redis key prefix. */
const DRILL_PREFIX = 'flux-drill:';

/** Seeds the drill's sale, its seat marks opened in the drill's Redis as the API's createEvent would. */
async function seedOpened(databaseUrl: string, redisUrl: string, seats: number) {
  const redis = await connectRedis(redisUrl);
  try {
    return await seedSale(databaseUrl, seats, { name: 'Drill', marks: { redis, prefix: DRILL_PREFIX } });
  } finally {
    redis.disconnect();
  }
}

/** Everything a drill started, so it can all be stopped whatever happens. */
interface Started {
  redis?: OwnRedis;
  database?: LoadDatabase;
  servers: ServerProcess[];
  maps: LiveSeatMap[];
}

async function tearDown(started: Started, keep: boolean): Promise<void> {
  for (const map of started.maps) map.stop();
  for (const server of started.servers) server.signal('SIGCONT'); // a paused one could not stop
  await stopServers(started.servers);
  await started.redis?.stop();
  if (!keep) await started.database?.drop();
}

/**
 * `npm run loadtest -- drill`: a Jepsen-style fault drill. Starts its own Redis, a fresh database and
 * two or more API instances, runs buyers (an open loop by default) and live seat maps, injects each
 * fault in turn, then checks the whole history against the database and writes the report. Resolves
 * with the report's files and whether every rule passed.
 */
export async function runDrill(options: DrillOptions, command: string): Promise<{ passed: boolean; files: string[] }> {
  const say = (line: string) => {
    if (!options.quiet) console.error(line);
  };
  const startedAt = new Date();
  const runId = `${startedAt.toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15)}_${randomBytes(2).toString('hex')}`;
  const name = `drill-${options.nemeses.length === NEMESES.length ? 'all' : options.nemeses.join('+')}-${runId}`;
  await mkdir(options.outDir, { recursive: true });
  const historyPath = join(options.outDir, `${name}.history.jsonl`);
  const built = await compileServers(false);
  console.error(
    `drill ${runId}: ${command}\nservers: node ${API_SCRIPT} (${built.length ? 'built now' : 'up to date'})`,
  );
  const started: Started = { servers: [], maps: [] };
  const interrupt = () => {
    console.error('interrupted: stopping the drill');
    tearDown(started, options.keep).then(
      () => process.exit(130),
      () => process.exit(130),
    );
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    started.redis = await startOwnRedis();
    const database = await createLoadDatabase(`drill_${runId}`);
    started.database = database;
    const sale = await seedOpened(database.url, started.redis.url, options.seats);
    const jwtSecret = randomBytes(32).toString('hex');
    // One buyer per worker, and one more who plants holds on an instance about to be killed or paused.
    const authorizations = await signBuyers(jwtSecret, `drill-${runId}`, options.workers + 1);
    const planter = authorizations.pop() ?? '';
    const spec: ServerSpec = {
      script: API_SCRIPT,
      env: {
        NODE_ENV: 'production',
        CORS_ORIGINS: '*',
        DATABASE_URL: database.url,
        REDIS_URL: started.redis.url,
        REDIS_KEY_PREFIX: DRILL_PREFIX,
        JWT_SECRET: jwtSecret,
        SEED_DEMO: 'false',
        PURCHASE_RATE_LIMIT: '0',
        WS_MAX_CONNECTIONS_PER_ADDRESS: '100000',
        LOCK_TTL_MS: String(options.lockTtlMs),
        HOLD_TTL_MS: String(options.holdSeconds * 1000),
        AVAILABILITY_RESYNC_MS: String(options.resyncMs),
        LOG_LEVEL: 'warn',
        DATABASE_POOL_SIZE: String(options.dbPool),
        // The seat-map checks read each instance's flux_live_resync_blocks_read (lost messages repaired).
        METRICS: 'true',
      },
    };
    started.servers = await startServers(options.instances, spec);
    const urls = started.servers.map((s) => s.url);
    say(`${options.instances} instances up on ${urls.join(', ')}; Redis of its own at ${started.redis.url}`);
    started.maps = Array.from(
      { length: options.subscribers },
      (_, i) => new LiveSeatMap(urls[i % urls.length] ?? '', sale.eventGlobalId),
    );
    await Promise.all(started.maps.map((map) => map.start()));

    const history = new History(historyPath);
    const picker = new SeatPicker(sale.ticketGlobalIds, options.hotSeats);
    const origin = Date.now();
    const load = startLoad(urls, authorizations, picker, options, history, runId);
    const faults: Fault[] = [];
    let planted = 0;
    const checks: ConvergenceCheck[] = [];
    await sleep(options.warmUpMs);
    for (const nemesis of options.nemeses) {
      await sleep(options.beforeMs);
      if (nemesis === 'kill' || nemesis === 'stop') {
        // Holds the victim made just before its fault: another instance's sweeper must end them on time.
        const victim = Math.min(1, urls.length - 1);
        for (let i = 0; i < PLANTED_HOLDS; i++) {
          const seats = sale.ticketGlobalIds.slice(-(planted + 2), -planted || undefined);
          planted += 2;
          await load.plantHold(victim, seats, planter);
        }
      }
      say(`${((Date.now() - origin) / 1000).toFixed(1)} s: ${nemesis} (${load.settled()} operations settled so far)`);
      const fault = await inject(nemesis, {
        servers: started.servers,
        spec,
        redis: started.redis,
        databaseName: database.name,
        lockTtlMs: options.lockTtlMs,
        redisDownMs: options.redisDownMs,
      });
      faults.push(fault);
      say(`  ${fault.detail}: ${fault.end - fault.start} ms`);
      const lostMarks =
        nemesis === 'redis-restart' || nemesis === 'redis-flush'
          ? marksWholeAfter(
              started.redis.url,
              DRILL_PREFIX,
              sale.eventId,
              fault.end,
              fault.end + options.resyncMs + 1000,
            )
          : undefined;
      // Every change committed by a second before the check must be in every map by the check. The
      // database is read at that moment, not filtered afterwards by the changes' own timestamps: a
      // statement's clock_timestamp() is not its commit, and a transaction the paused instance left
      // open commits after SIGCONT with timestamps from before the pause.
      const checkAt = fault.end + options.resyncMs + 1000;
      await sleep(checkAt - 1000 - Date.now());
      const committed = await readSeatStates(database.url, sale.eventId);
      await sleep(checkAt - Date.now());
      const { wrong, notes } = checkMaps(committed, started.maps, { from: fault.end, after: fault.start });
      if (lostMarks) {
        const ms = await lostMarks;
        fault.detail +=
          ms === null ? '; seat marks not vouched for again by the check' : `; seat marks whole again ${ms} ms after`;
      }
      const resyncBlocks = await Promise.all(started.servers.map((server) => resyncBlocksRead(server.url)));
      const reloadedMs = started.maps.map((map) => {
        const loaded = map.events.filter((e) => e.what === 'loaded' && e.at >= fault.start).at(-1);
        return loaded ? loaded.at - fault.end : null;
      });
      checks.push({
        after: nemesis,
        at: checkAt,
        sinceFaultEndMs: checkAt - fault.end,
        wrong,
        notes,
        reloadedMs,
        steps: started.maps.map((map) => connectionSteps(map.events, fault.end, fault.start)),
        resyncBlocks,
      });
      say(
        `  seat maps ${checkAt - fault.end} ms after the fault: ${wrong.join(', ')} seats wrong (maps loaded again ${reloadedMs.map((ms) => (ms === null ? '—' : `${ms} ms`)).join(', ')} after the fault; blocks read again by each instance's check so far: ${resyncBlocks.join(', ')})`,
      );
      for (const note of notes) say(`    ${note}`);
      for (const [i, map] of started.maps.entries()) {
        const steps = connectionSteps(map.events, fault.end, fault.start);
        if (steps.length) say(`    subscriber ${i}: ${steps.join(', ')}`);
      }
      await sleep(fault.end + options.afterMs - Date.now());
    }
    const loadEnd = Date.now();
    say(`${((loadEnd - origin) / 1000).toFixed(1)} s: load stops; waiting for open operations and their retries`);
    await load.stop();
    const settled = Date.now();
    await history.close();
    // Every hold made has expired (and been swept) before the final checks.
    await sleep(options.holdSeconds * 1000 + 1500);
    const final = await finalConvergence(database.url, sale.eventId, started.maps, options.resyncMs + 1000);
    checks.push({
      after: 'final',
      at: Date.now(),
      sinceFaultEndMs: final.tookMs,
      wrong: final.wrong,
      notes: final.notes,
    });

    const ops = operationsOf(history.attempts);
    const snapshot = await readSnapshot(database.url, sale.eventId);
    const dependencyFaults: Window[] = faults.filter((f) => f.instance === null);
    const verdicts: Verdict[] = checkHistory(ops, snapshot, dependencyFaults);
    const held = killedHolds(ops, snapshot, faults);
    const holdVerdict = verdicts[3];
    if (holdVerdict && held) holdVerdict.detail += `; ${held}`;
    const invariants = await sqlInvariants(database.url, sale.eventId);
    verdicts.push({
      rule: 'SQL invariants',
      pass: invariants.every((i) => i.pass),
      violations: invariants.filter((i) => !i.pass).length,
      detail: invariants.map((i) => `${i.pass ? 'PASS' : 'FAIL'} ${i.name}: ${i.detail}`).join('; '),
      examples: [],
    });
    const badChecks = checks.filter((c) => c.wrong.some((n) => n > 0));
    verdicts.push({
      rule: `every subscriber's seat map = the database within AVAILABILITY_RESYNC_MS + 1 s of each fault's end, and at the end`,
      pass: badChecks.length === 0,
      violations: badChecks.length,
      detail: `${options.subscribers} subscribers over ${options.instances} instances, ${checks.length} checks; reconnects: ${JSON.stringify(started.maps.map((m) => m.reconnects))}; final maps ${final.wrong.every((n) => n === 0) ? `equal after ${final.tookMs} ms` : `still unequal after ${final.tookMs} ms`}`,
      examples: badChecks.flatMap((c) => [
        `after ${c.after}: ${c.wrong.join(', ')} seats wrong`,
        ...(c.notes ?? []).map((note) => `&nbsp;&nbsp;${note}`),
      ]),
    });

    const bins = binsOf(history.attempts, origin, settled);
    const latency = new LatencyTimeline(history.attempts);
    // Quiet points start 2 s after the warm-up: the open loop's start-up backlog is no steady load.
    const quietFrom = options.warmUpMs + 2000;
    const soldOutAt = load.soldOutAt();
    const report: DrillReport = {
      name,
      command,
      startedAt: startedAt.toISOString(),
      options,
      historyFile: historyPath,
      durationMs: loadEnd - origin,
      soldOutMs: soldOutAt === null ? null : soldOutAt - origin,
      faults: faults.map((fault) => ({
        ...fault,
        figures: faultFigures(bins, origin, fault),
        latency: latency.recovery(fault, loadEnd),
      })),
      quiet: quietRecovery(bins, origin, faults, loadEnd, quietFrom),
      quietLatency: latency.quiet(origin, faults, loadEnd, quietFrom),
      attempts: {
        ok: history.attempts.filter((a) => a.outcome.type === 'ok').length,
        refused: history.attempts.filter((a) => a.outcome.type === 'refused').length,
        unknown: history.attempts.filter((a) => a.outcome.type === 'unknown').length,
      },
      operations: ops.length,
      unknowns: unknownsOf(ops, snapshot),
      unknownErrors: countErrors(history),
      checks,
      verdicts,
      passed: verdicts.every((v) => v.pass),
      bins,
      origin,
    };
    console.log(drillSummary(report).join('\n'));
    if (!report.passed)
      for (const [i, server] of started.servers.entries())
        console.error(`\ninstance ${i}'s last lines:\n${server.output() || '(none)'}`);
    const files = await writeDrillReport(options.outDir, report);
    return { passed: report.passed, files };
  } finally {
    process.removeListener('SIGINT', interrupt);
    process.removeListener('SIGTERM', interrupt);
    await tearDown(started, options.keep);
  }
}

function countErrors(history: History): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { outcome } of history.attempts)
    if (outcome.type === 'unknown') counts[outcome.error] = (counts[outcome.error] ?? 0) + 1;
  return counts;
}
