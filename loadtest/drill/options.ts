import { parseArgs } from 'node:util';
import { parseDuration, positiveInt } from '../cli-values.js';
import { NEMESES, type NemesisName } from './nemesis.js';

/** Everything one `npm run loadtest -- drill` was asked to do (the JSON report keeps it). */
export interface DrillOptions {
  /** The faults, in order (`all` is every one of them). */
  nemeses: NemesisName[];
  instances: number;
  /** Buyers (closed loop: one client each). */
  workers: number;
  /** Sessions started per second (open loop); 0: the closed loop of `workers` clients. */
  rate: number;
  seats: number;
  hotSeats: number;
  /** Load before the first fault's `beforeMs`: the servers' JIT warms up. */
  warmUpMs: number;
  /** Load before each fault (the pre-fault level is measured on its last 2 s). */
  beforeMs: number;
  /** Load after each fault's end, before the next fault (or the end). */
  afterMs: number;
  subscribers: number;
  lockTtlMs: number;
  resyncMs: number;
  holdSeconds: number;
  thinkMs: number;
  timeoutMs: number;
  retryForMs: number;
  redisDownMs: number;
  /** Each instance's DATABASE_POOL_SIZE (the servers' default is 10). */
  dbPool: number;
  keep: boolean;
  outDir: string;
  quiet: boolean;
}

/**
 * Sessions per second by default: half of 800/s, which two instances on this 2-core box still
 * answered with a p99 of 99 ms, so there is room to work off a fault's backlog (loadtest/README.md).
 */
const DEFAULT_RATE = 400;

/** The drill's usage lines (for the load test's usage text). */
export const DRILL_USAGE = [
  'usage: npm run loadtest -- drill --nemesis <kill|stop|redis-restart|redis-flush|pg-terminate|a,b,…|all> [options]',
  '  --instances N (2)  --rate N (400 sessions/s, open loop; 0: closed loop)  --workers N (24 buyers; closed-loop clients at --rate 0)',
  '  --seats N (10000)  --hot N (200 seats contended)',
  '  --warmup 3s  --before 3s  --after (resync + 2 s)  --subscribers N (3)  --lock-ttl-ms N (5000)  --resync-ms N (5000)',
  '  --hold-seconds S (3)  --think 200ms  --timeout 3s  --retry-for 20s  --redis-down 1s  --db-pool N (10)  --keep  --out DIR  --quiet',
].join('\n');

/** Reads `drill …` (argv without the word `drill`); throws naming the first bad option. */
export function parseDrillOptions(argv: string[]): DrillOptions {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      nemesis: { type: 'string' },
      instances: { type: 'string' },
      workers: { type: 'string' },
      rate: { type: 'string' },
      seats: { type: 'string' },
      hot: { type: 'string' },
      warmup: { type: 'string' },
      before: { type: 'string' },
      after: { type: 'string' },
      subscribers: { type: 'string' },
      'lock-ttl-ms': { type: 'string' },
      'resync-ms': { type: 'string' },
      'hold-seconds': { type: 'string' },
      think: { type: 'string' },
      timeout: { type: 'string' },
      'retry-for': { type: 'string' },
      'redis-down': { type: 'string' },
      'db-pool': { type: 'string' },
      keep: { type: 'boolean', default: false },
      out: { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
  });
  const nemesis = v.nemesis ?? '';
  const named = nemesis === 'all' ? [...NEMESES] : nemesis.split(',').map((n) => n.trim());
  const unknown = named.filter((n) => !(NEMESES as readonly string[]).includes(n));
  if (named.length === 0 || unknown.length > 0)
    throw new Error(
      `--nemesis: expected ${NEMESES.join(', ')}, a comma-separated list of them, or all; got "${nemesis}"`,
    );
  const nemeses = named as NemesisName[];
  const instances = positiveInt('instances', v.instances, 2);
  if (instances < 2) throw new Error('--instances: a drill needs at least 2');
  const resyncMs = positiveInt('resync-ms', v['resync-ms'], 5000);
  const seats = positiveInt('seats', v.seats, 10_000);
  return {
    nemeses,
    instances,
    workers: positiveInt('workers', v.workers, 24),
    rate: v.rate === '0' ? 0 : positiveInt('rate', v.rate, DEFAULT_RATE),
    seats,
    hotSeats: Math.min(seats, positiveInt('hot', v.hot, 200)),
    warmUpMs: parseDuration(v.warmup ?? '3s'),
    beforeMs: parseDuration(v.before ?? '3s'),
    afterMs: v.after ? parseDuration(v.after) : Math.max(3000, resyncMs + 2000),
    subscribers: positiveInt('subscribers', v.subscribers, 3),
    lockTtlMs: positiveInt('lock-ttl-ms', v['lock-ttl-ms'], 5000),
    resyncMs,
    holdSeconds: positiveInt('hold-seconds', v['hold-seconds'], 3),
    thinkMs: parseDuration(v.think ?? '200ms'),
    timeoutMs: parseDuration(v.timeout ?? '3s'),
    retryForMs: parseDuration(v['retry-for'] ?? '20s'),
    redisDownMs: parseDuration(v['redis-down'] ?? '1s'),
    dbPool: positiveInt('db-pool', v['db-pool'], 10),
    keep: v.keep ?? false,
    outDir: v.out ?? 'loadtest/results',
    quiet: v.quiet ?? false,
  };
}
