import { type ParseArgsConfig, parseArgs } from 'node:util';
import { PURCHASE_STRATEGIES, type PurchaseStrategyName } from '../src/config.js';
import { parseDuration, positiveInt } from './cli-values.js';
import { SCENARIOS, scenarioNamed } from './scenarios/index.js';
import type { SalePlan, Scenario } from './scenarios/scenario.js';

/**
 * The product run with a setting changed, to measure what the setting gains in the same invocation:
 * `redis-lock-solo` is redis-lock with `GROUP_COMMIT=false` (each winner its own transaction).
 */
export const PRODUCT_VARIANTS = {
  'redis-lock-solo': { strategy: 'redis-lock', env: { GROUP_COMMIT: 'false' } },
} as const satisfies Record<string, { strategy: PurchaseStrategyName; env: Record<string, string> }>;
export type ProductVariant = keyof typeof PRODUCT_VARIANTS;

/** The product on a Redis Cluster (`--redis cluster`): three masters and three replicas on loopback. */
export const ON_CLUSTER = 'redis-lock-cluster';

/**
 * The `floor` server is bare yoga plus one Redis SET NX: the ceiling of this stack on this box.
 * `redis-lock-cluster` is the product (`redis-lock`) on a Redis Cluster of the run's own.
 */
export type Contender = PurchaseStrategyName | ProductVariant | 'floor' | typeof ON_CLUSTER;

/**
 * The `PURCHASE_STRATEGY` a contender's servers run, and the environment it adds (the cluster's
 * nodes are added by the run, which starts the cluster).
 */
export function contenderServer(contender: Exclude<Contender, 'floor'>): {
  strategy: PurchaseStrategyName;
  env: Record<string, string>;
} {
  if (contender === ON_CLUSTER) return { strategy: 'redis-lock', env: {} };
  return contender in PRODUCT_VARIANTS
    ? PRODUCT_VARIANTS[contender as ProductVariant]
    : { strategy: contender as PurchaseStrategyName, env: {} };
}

/** How load is offered: a fixed arrival rate (open loop) or N clients that wait for answers (closed loop). */
export type LoadShape = { kind: 'open'; rate: number } | { kind: 'closed'; connections: number };

/** Everything one invocation of `npm run loadtest` was asked to do (the JSON report keeps it). */
export interface LoadOptions {
  /** A scenario's name, `live` or `compare`. */
  command: string;
  /** The registered scenario (scenarios/index.ts) that runs. */
  scenario: string;
  /** The scenario's own options as it read them, defaults filled in (e.g. seats, group). */
  settings: Readonly<Record<string, number>>;
  contenders: Contender[];
  /**
   * `cluster` (`--redis cluster`): the product on a Redis Cluster of its own, and in `compare` beside
   * it on one redis-server of its own, so neither counts another client's commands or CPU.
   */
  redis: 'node' | 'cluster';
  shape: LoadShape;
  durationMs: number;
  instances: number;
  buyers: number;
  /** HTTP keep-alive connections per API instance (open loop); closed loop uses one per client. */
  httpConnections: number;
  maxInFlight: number;
  /** Warm-up purchases per instance before the measured load (see warm-up.ts). */
  warmUp: number;
  subscribers: number;
  lockTtlMs: number;
  dbPoolSize: number;
  keep: boolean;
  cpuProf: boolean;
  outDir: string;
  quiet: boolean;
}

/** What to run: the options, and the scenario configured by them. */
export interface Invocation {
  options: LoadOptions;
  plan: SalePlan;
}

const COMMON_OPTIONS = {
  scenario: { type: 'string' },
  strategy: { type: 'string' },
  strategies: { type: 'string' },
  redis: { type: 'string' },
  rate: { type: 'string' },
  connections: { type: 'string' },
  duration: { type: 'string' },
  instances: { type: 'string' },
  buyers: { type: 'string' },
  'http-connections': { type: 'string' },
  'max-in-flight': { type: 'string' },
  warmup: { type: 'string' },
  subscribers: { type: 'string' },
  'lock-ttl-ms': { type: 'string' },
  'db-pool': { type: 'string' },
  'cpu-prof': { type: 'boolean', default: false },
  keep: { type: 'boolean', default: false },
  out: { type: 'string' },
  quiet: { type: 'boolean', default: false },
} as const satisfies ParseArgsConfig['options'];

/** Every scenario option once, with the scenarios that take it. */
function scenarioOptions(): Array<{ name: string; usage: string; takenBy: string[] }> {
  const byName = new Map<string, { name: string; usage: string; takenBy: string[] }>();
  for (const scenario of SCENARIOS) {
    for (const option of scenario.options) {
      const known = byName.get(option.name) ?? { ...option, takenBy: [] };
      known.takenBy.push(scenario.name);
      byName.set(option.name, known);
    }
  }
  return [...byName.values()];
}

const column = (flag: string, text: string) => `  ${flag.padEnd(32)}${text}`;

export const USAGE = [
  'usage: npm run loadtest -- <scenario|live|compare> [options]',
  'scenarios:',
  ...SCENARIOS.map((s) => column(s.name, s.summary)),
  column('live', 'a scenario (--scenario) plus --subscribers graphql-ws clients watching the event'),
  column('compare', 'a scenario (--scenario) once per strategy, back to back'),
  'options:',
  column('--scenario NAME', `for compare and live: ${SCENARIOS.map((s) => s.name).join('|')} (default hot-seat)`),
  column('--strategy NAME', `${PURCHASE_STRATEGIES.join('|')}|floor (default redis-lock)`),
  column('--strategies a,b,…', 'for compare (default floor and all four strategies)'),
  column('--redis node|cluster', 'cluster: redis-lock on a Redis Cluster of its own (compare: beside one node)'),
  column('', `also: ${Object.keys(PRODUCT_VARIANTS).join('|')} (redis-lock with GROUP_COMMIT=false)`),
  column('--rate N', 'open loop: N attempts/s whatever the latency (default 2000)'),
  column('--connections N', 'closed loop: N clients, each sends when answered'),
  column('--duration 60s', 'how long to offer load (ms, s or m); a scenario may stop earlier when sold out'),
  column('--instances N', 'API processes (default 1), each on its own port'),
  column('--buyers N', 'distinct customers with pre-signed tokens (default 10000)'),
  column('--http-connections N', 'keep-alive connections per instance, open loop (default 64)'),
  column('--max-in-flight N', 'open loop: arrivals beyond this are counted as dropped (default 20000)'),
  column('--warmup N', 'warm-up purchases per instance before measuring (default 4000)'),
  column('--subscribers N', 'live: graphql-ws clients watching the event (default 1000)'),
  column('--lock-ttl-ms N', 'LOCK_TTL_MS for the servers (default 5000)'),
  column('--db-pool N', 'DATABASE_POOL_SIZE per instance (default 10)'),
  column('--cpu-prof', 'run the servers under node --cpu-prof (profiles next to the results)'),
  column('--keep', 'keep the load databases and Redis keys'),
  column('--out DIR', 'results folder (default loadtest/results)'),
  column('--quiet', 'no per-second progress'),
  'scenario options:',
  ...scenarioOptions().map((o) => {
    const [value, ...text] = o.usage.split('  ');
    return column(`--${o.name} ${value}`, `${text.join('  ')}; ${o.takenBy.join(', ')}`);
  }),
].join('\n');

function contender(name: string): Contender {
  if (
    name === 'floor' ||
    name === ON_CLUSTER ||
    name in PRODUCT_VARIANTS ||
    (PURCHASE_STRATEGIES as readonly string[]).includes(name)
  )
    return name as Contender;
  const known = [...PURCHASE_STRATEGIES, ...Object.keys(PRODUCT_VARIANTS), ON_CLUSTER].join(', ');
  throw new Error(`unknown strategy "${name}" (expected ${known} or floor)`);
}

/**
 * `--redis cluster`: `compare` runs the product on one Redis node and on a cluster, side by side; a
 * single scenario runs it on the cluster. Any other value but `node` (the default) is refused.
 */
function contendersFor(command: string, strategies: string | undefined, strategy: string | undefined, redis = 'node') {
  if (redis !== 'node' && redis !== 'cluster') throw new Error(`--redis: "${redis}" is not node or cluster`);
  if (redis === 'cluster') {
    if (strategies !== undefined || (strategy !== undefined && strategy !== 'redis-lock'))
      throw new Error('--redis cluster: runs redis-lock only (on one node and on the cluster)');
    return command === 'compare' ? ['redis-lock', ON_CLUSTER].map(contender) : [contender(ON_CLUSTER)];
  }
  return command === 'compare'
    ? (strategies?.split(',').map((s) => contender(s.trim())) ?? ['floor' as const, ...PURCHASE_STRATEGIES])
    : [contender(strategy ?? 'redis-lock')];
}

/** The scenario's own options as given; an option of another scenario is an error naming who takes it. */
function ownValues(scenario: Scenario, values: Record<string, unknown>): Record<string, string | undefined> {
  const own: Record<string, string | undefined> = {};
  for (const { name, takenBy } of scenarioOptions()) {
    const value = values[name] as string | undefined;
    if (scenario.options.some((o) => o.name === name)) own[name] = value;
    else if (value !== undefined)
      throw new Error(`--${name}: only ${takenBy.join(' and ')} ${takenBy.length > 1 ? 'take' : 'takes'} it`);
  }
  return own;
}

/** Reads the command line; throws with a message naming the first bad option. */
export function parseLoadOptions(argv: string[]): Invocation {
  const scenarioFlags = Object.fromEntries(scenarioOptions().map((o) => [o.name, { type: 'string' as const }]));
  const { positionals, values: v } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...COMMON_OPTIONS, ...scenarioFlags },
  });
  const command = positionals[0] ?? '';
  if (!scenarioNamed(command) && command !== 'live' && command !== 'compare') {
    throw new Error(`unknown scenario "${command}"`);
  }
  const scenarioName = scenarioNamed(command) ? command : (v.scenario ?? 'hot-seat');
  const scenario = scenarioNamed(scenarioName);
  if (!scenario) throw new Error(`--scenario: "${scenarioName}" is unknown`);
  const plan = scenario.configure(ownValues(scenario, v));
  if (v.rate !== undefined && v.connections !== undefined)
    throw new Error('--rate and --connections exclude each other');
  const shape: LoadShape =
    v.connections !== undefined
      ? { kind: 'closed', connections: positiveInt('connections', v.connections, 1) }
      : { kind: 'open', rate: positiveInt('rate', v.rate, 2000) };
  const contenders = contendersFor(command, v.strategies, v.strategy, v.redis);
  if (command === 'live' && contenders.includes('floor'))
    throw new Error('live: the floor server has no subscriptions');
  const { runsOn } = plan;
  // A product variant runs wherever its strategy does.
  const strategyOf = (c: Contender) => (c === 'floor' ? c : contenderServer(c).strategy);
  const refused = runsOn
    ? contenders.filter((c) => !(runsOn.strategies as readonly string[]).includes(strategyOf(c)))
    : [];
  if (runsOn && refused.length > 0)
    throw new Error(
      `${scenario.name} runs on ${runsOn.strategies.join(', ')} only, not ${refused.join(', ')}: ${runsOn.why}`,
    );
  const options: LoadOptions = {
    command,
    scenario: scenario.name,
    settings: plan.settings,
    contenders,
    redis: v.redis === 'cluster' ? 'cluster' : 'node',
    shape,
    durationMs: parseDuration(v.duration ?? '60s'),
    instances: positiveInt('instances', v.instances, 1),
    buyers: positiveInt('buyers', v.buyers, 10_000),
    httpConnections: positiveInt('http-connections', v['http-connections'], 64),
    maxInFlight: positiveInt('max-in-flight', v['max-in-flight'], 20_000),
    warmUp: positiveInt('warmup', v.warmup, 4000),
    subscribers: command === 'live' ? positiveInt('subscribers', v.subscribers, 1000) : 0,
    lockTtlMs: positiveInt('lock-ttl-ms', v['lock-ttl-ms'], 5000),
    dbPoolSize: positiveInt('db-pool', v['db-pool'], 10),
    keep: v.keep ?? false,
    cpuProf: v['cpu-prof'] ?? false,
    outDir: v.out ?? 'loadtest/results',
    quiet: v.quiet ?? false,
  };
  return { options, plan };
}
