import { parseArgs } from 'node:util';
import { PURCHASE_STRATEGIES, type PurchaseStrategyName } from '../src/config.js';

/** A sale shape: one seat everybody wants, a venue emptied at random, or emptied by groups of adjacent seats. */
export type SaleScenario = 'hot-seat' | 'seat-rush' | 'multi-seat';
const SCENARIOS: readonly SaleScenario[] = ['hot-seat', 'seat-rush', 'multi-seat'];
/** `MAX_SEATS_PER_PURCHASE` of `purchaseTickets` (src/graphql/types/purchase.ts; importing it would build the schema). */
const MAX_GROUP = 10;
/** The `floor` server is bare yoga plus one Redis SET NX: the ceiling of this stack on this box. */
export type Contender = PurchaseStrategyName | 'floor';
/** How load is offered: a fixed arrival rate (open loop) or N clients that wait for answers (closed loop). */
export type LoadShape = { kind: 'open'; rate: number } | { kind: 'closed'; connections: number };

/** Everything one invocation of `npm run loadtest` was asked to do. */
export interface LoadOptions {
  command: SaleScenario | 'live' | 'compare';
  scenario: SaleScenario;
  contenders: Contender[];
  shape: LoadShape;
  durationMs: number;
  instances: number;
  seats: number;
  /** multi-seat: adjacent seats per purchase; also the seeded event's per-customer limit. 1 otherwise. */
  group: number;
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

export const USAGE = `usage: npm run loadtest -- <hot-seat|seat-rush|multi-seat|live|compare> [options]
  --scenario NAME                 hot-seat|seat-rush|multi-seat, for compare and live (default hot-seat)
  --strategy NAME                 ${PURCHASE_STRATEGIES.join('|')}|floor (default redis-lock)
  --strategies a,b,…              for compare (default floor and all four strategies)
  --rate N                        open loop: N attempts/s whatever the latency (default 2000)
  --connections N                 closed loop: N clients, each sends when answered
  --duration 60s                  how long to offer load (ms, s or m); seat-rush and multi-seat stop when sold out
  --instances N                   API processes (default 1), each on its own port
  --seats N                       seat-rush and multi-seat venue size (default 10000)
  --group K                       multi-seat: adjacent seats in one row per purchase, 1-${MAX_GROUP} (default 4)
  --buyers N                      distinct customers with pre-signed tokens (default 10000)
  --http-connections N            keep-alive connections per instance, open loop (default 64)
  --max-in-flight N               open loop: arrivals beyond this are counted as dropped (default 20000)
  --warmup N                      warm-up purchases per instance before measuring (default 4000)
  --subscribers N                 live: graphql-ws clients watching the event (default 1000)
  --lock-ttl-ms N                 LOCK_TTL_MS for the servers (default 5000)
  --db-pool N                     DATABASE_POOL_SIZE per instance (default 10)
  --cpu-prof                      run the servers under node --cpu-prof (profiles next to the results)
  --keep                          keep the load databases and Redis keys
  --out DIR                       results folder (default loadtest/results)
  --quiet                         no per-second progress`;

/** Parses `12s`, `1500ms`, `2m` or a bare number of seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) throw new Error(`--duration: "${text}" is not a duration like 60s`);
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  return Math.round(unit === 'ms' ? value : unit === 'm' ? value * 60_000 : value * 1000);
}

function positiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name}: "${text}" is not a positive integer`);
  return value;
}

function contender(name: string): Contender {
  if (name === 'floor' || (PURCHASE_STRATEGIES as readonly string[]).includes(name)) return name as Contender;
  throw new Error(`unknown strategy "${name}" (expected ${PURCHASE_STRATEGIES.join(', ')} or floor)`);
}

/** Reads the command line; throws with a message naming the first bad option. */
export function parseLoadOptions(argv: string[]): LoadOptions {
  const { positionals, values: v } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      scenario: { type: 'string' },
      strategy: { type: 'string' },
      strategies: { type: 'string' },
      rate: { type: 'string' },
      connections: { type: 'string' },
      duration: { type: 'string' },
      instances: { type: 'string' },
      seats: { type: 'string' },
      group: { type: 'string' },
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
    },
  });
  const command = positionals[0] ?? '';
  const isScenario = (name: string): name is SaleScenario => (SCENARIOS as readonly string[]).includes(name);
  if (!isScenario(command) && command !== 'live' && command !== 'compare') {
    throw new Error(`unknown scenario "${command}"`);
  }
  const scenario = isScenario(command) ? command : (v.scenario ?? 'hot-seat');
  if (!isScenario(scenario)) throw new Error(`--scenario: "${scenario}" is unknown`);
  const seats = positiveInt('seats', v.seats, 10_000);
  if (v.group !== undefined && scenario !== 'multi-seat') throw new Error('--group: only multi-seat buys groups');
  const group = scenario === 'multi-seat' ? positiveInt('group', v.group, 4) : 1;
  // Rows hold min(100, seats) seats (database.ts venueLayout); a group must fit in one.
  if (group > MAX_GROUP || group > Math.min(100, seats))
    throw new Error(`--group: ${group} must be at most ${MAX_GROUP} and fit in a row of ${Math.min(100, seats)} seats`);
  if (v.rate !== undefined && v.connections !== undefined)
    throw new Error('--rate and --connections exclude each other');
  const shape: LoadShape =
    v.connections !== undefined
      ? { kind: 'closed', connections: positiveInt('connections', v.connections, 1) }
      : { kind: 'open', rate: positiveInt('rate', v.rate, 2000) };
  const contenders =
    command === 'compare'
      ? (v.strategies?.split(',').map((s) => contender(s.trim())) ?? ['floor', ...PURCHASE_STRATEGIES])
      : [contender(v.strategy ?? 'redis-lock')];
  if (command === 'live' && contenders.includes('floor'))
    throw new Error('live: the floor server has no subscriptions');
  return {
    command,
    scenario,
    contenders,
    shape,
    durationMs: parseDuration(v.duration ?? '60s'),
    instances: positiveInt('instances', v.instances, 1),
    seats,
    group,
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
}
