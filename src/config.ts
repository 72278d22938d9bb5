import { z } from 'zod';

/** How `purchaseTicket` guards a seat; `redis-lock` is the product, the rest exist to be compared. */
export const PURCHASE_STRATEGIES = ['redis-lock', 'pg-row-lock', 'pg-optimistic', 'pg-conditional'] as const;
export type PurchaseStrategyName = (typeof PURCHASE_STRATEGIES)[number];

/** Development-only signing secret; production refuses to start without a real `JWT_SECRET`. */
export const DEV_JWT_SECRET = 'flux-order-dev-secret-do-not-use-in-production';

const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const booleanFlag = z
  .enum(['true', 'false', '1', '0'])
  .optional()
  .transform((value) => (value === undefined ? undefined : value === 'true' || value === '1'));

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: optionalString.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  PGLITE_DATA_DIR: optionalString,
  REDIS_URL: optionalString.pipe(z.url({ protocol: /^rediss?$/ }).optional()),
  REDIS_CLUSTER_NODES: optionalString.pipe(
    z
      .string()
      .regex(/^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/, 'must be host:port[,host:port…]')
      .optional(),
  ),
  REDIS_KEY_PREFIX: z.string().default('flux:'),
  JWT_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  LOCK_TTL_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
  SOLD_MARK_TTL_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(24 * 3600 * 1000),
  IDEMPOTENCY_WINDOW_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(24 * 3600 * 1000)
    .default(10 * 60 * 1000),
  HOLD_TTL_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(3600 * 1000)
    .default(10 * 60 * 1000),
  HOLD_SWEEP_MS: z.coerce.number().int().min(20).max(60_000).default(250),
  AVAILABILITY_WINDOW_MS: z.coerce.number().int().min(0).max(5000).default(50),
  AVAILABILITY_MAX_PENDING_TICKETS: z.coerce.number().int().min(1).default(5000),
  AVAILABILITY_RESYNC_MS: z.coerce.number().int().min(50).max(600_000).default(5000),
  PURCHASE_RATE_LIMIT: z.coerce.number().int().min(0).default(30),
  PURCHASE_RATE_WINDOW_SECONDS: z.coerce.number().int().min(1).max(3600).default(10),
  GROUP_COMMIT: booleanFlag,
  GROUP_COMMIT_WINDOW_MS: z.coerce.number().min(0).max(1000).default(2),
  // Each buyer of a group is a subtransaction; Postgres caches 64 per transaction before it spills.
  GROUP_COMMIT_MAX_SIZE: z.coerce.number().int().min(1).max(64).default(32),
  SALE_SETTINGS_TTL_MS: z.coerce.number().int().min(0).max(60_000).default(5000),
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(10_000_000).default(100_000),
  MAX_QUERY_COST: z.coerce.number().int().min(100).default(50_000),
  WS_MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(1).default(100),
  GRAPHIQL: booleanFlag,
  INTROSPECTION: booleanFlag,
  PURCHASE_STRATEGY: z.enum(PURCHASE_STRATEGIES).default('redis-lock'),
  SEED_DEMO: booleanFlag,
  METRICS: booleanFlag,
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(120_000).default(10_000),
  DEPENDENCY_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(2000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'silent']).default('info'),
  CORS_ORIGINS: optionalString.pipe(
    z
      .string()
      .transform((value) => (value === '*' ? '*' : value.split(',').map((origin) => origin.trim())))
      .pipe(
        z.union([
          z.literal('*'),
          z.array(z.string().refine(isOrigin, 'each must be an origin such as https://tickets.example')),
        ]),
      )
      .optional(),
  ),
});

/** `scheme://host[:port]` and nothing more, as a browser sends it in `Origin`. */
function isOrigin(value: string): boolean {
  try {
    return new URL(value).origin === value;
  } catch {
    return false;
  }
}

/** Everything the app reads from its environment, validated and typed. */
export interface Config {
  nodeEnv: 'development' | 'test' | 'production';
  port: number;
  host: string;
  /** Absent means the embedded PGlite database. */
  databaseUrl: string | undefined;
  databasePoolSize: number;
  pgliteDataDir: string | undefined;
  /** Absent (and no cluster) means the in-process lock and pub/sub. */
  redisUrl: string | undefined;
  /** A Redis Cluster's seed nodes (any of its nodes; the rest are discovered); set instead of `redisUrl`. */
  redisClusterNodes: RedisNodeAddress[] | undefined;
  redisKeyPrefix: string;
  jwtSecret: string;
  lockTtlMs: number;
  soldMarkTtlMs: number;
  /**
   * How long Redis remembers an idempotency key's attempts and the refusal it was answered, after its
   * last attempt (never less than `lockTtlMs`); see sales/idempotency.ts.
   */
  idempotencyWindowMs: number;
  purchaseStrategy: PurchaseStrategyName;
  /** How long a hold keeps its seats when its event names no `holdMinutes`. */
  holdTtlMs: number;
  /** The longest an instance goes without looking for expired holds (it also wakes at the next expiry). */
  holdSweepMs: number;
  /** Purchase attempts one customer may make per window; 0 turns the limit off. */
  purchaseRateLimit: number;
  purchaseRateWindowSeconds: number;
  /**
   * Winners' writes (purchases, holds, checkouts) commit in groups, one transaction per group, on
   * Postgres; off: one transaction each. Embedded PGlite always commits each alone.
   */
  groupCommit: boolean;
  /** How long a group's first winner waits for others (ms). */
  groupCommitWindowMs: number;
  /** A group goes as soon as it has this many winners. */
  groupCommitMaxSize: number;
  /** How long an instance trusts its cached sale window and limit of an event. */
  saleSettingsTtlMs: number;
  /** Larger request bodies get 413 before they are read; larger WebSocket messages close the socket (1009). */
  maxBodyBytes: number;
  /** Most fields an operation's response may be estimated to hold (pages counted at their size); more is refused. */
  maxQueryCost: number;
  /** Open WebSockets one client address may have; the next upgrade gets 429. */
  wsMaxConnectionsPerAddress: number;
  /** GraphiQL and introspection: on by default, off in production unless turned on. */
  graphiql: boolean;
  introspection: boolean;
  /** Coalescing window of the live availability stream. */
  availabilityWindowMs: number;
  /** Unread backlog (in tickets) after which a slow subscriber is disconnected. */
  availabilityMaxPendingTickets: number;
  /** How often each instance checks its copy of a watched event against the database. */
  availabilityResyncMs: number;
  /** Seed the demo sale at start-up; defaults to on in embedded mode. */
  seedDemo: boolean;
  /** Serve /metrics (Prometheus) and record GraphQL metrics: on by default, off in production unless turned on. */
  metrics: boolean;
  /** On SIGTERM, how long in-flight requests may take before connections are cut. */
  shutdownGraceMs: number;
  /** How long a Redis command or a Postgres connection attempt may take before the request gets SERVICE_UNAVAILABLE. */
  dependencyTimeoutMs: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';
  /** Browser origins whose scripts may read answers: `'*'` (any, the default outside production) or a list. */
  corsOrigins: '*' | string[];
}

/** One node of a Redis Cluster. */
export interface RedisNodeAddress {
  host: string;
  port: number;
}

/** `host:port,host:port` (already checked for shape) as addresses. */
function clusterNodes(list: string | undefined): RedisNodeAddress[] | undefined {
  return list?.split(',').map((entry) => {
    const at = entry.lastIndexOf(':');
    return { host: entry.slice(0, at), port: Number(entry.slice(at + 1)) };
  });
}

/** Raised when the environment is invalid; `problems` names every one of them at once. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** The only reader of the environment: a pure function from env to a typed Config. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = envSchema.safeParse(env);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(`${issue.path.join('.') || 'environment'}: ${issue.message}`);
    }
  }
  const nodeEnv = parsed.success ? parsed.data.NODE_ENV : env.NODE_ENV;
  const hasRedisUrl = Boolean(env.REDIS_URL?.trim());
  const hasCluster = Boolean(env.REDIS_CLUSTER_NODES?.trim());
  if (hasRedisUrl && hasCluster) problems.push('REDIS_CLUSTER_NODES: set it or REDIS_URL, not both');
  if (nodeEnv === 'production') {
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'JWT_SECRET'] as const) {
      if (name === 'REDIS_URL' && hasCluster) continue;
      if (!env[name]?.trim()) {
        const or = name === 'REDIS_URL' ? ' (or REDIS_CLUSTER_NODES)' : '';
        problems.push(`${name}: required${or} when NODE_ENV=production (no embedded fallback)`);
      }
    }
    if (!env.CORS_ORIGINS?.trim()) {
      problems.push('CORS_ORIGINS: required when NODE_ENV=production (the web origins that may call the API, or *)');
    }
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const data = parsed.data;
  return {
    nodeEnv: data.NODE_ENV,
    port: data.PORT,
    host: data.HOST,
    databaseUrl: data.DATABASE_URL,
    databasePoolSize: data.DATABASE_POOL_SIZE,
    pgliteDataDir: data.PGLITE_DATA_DIR,
    redisUrl: data.REDIS_URL,
    redisClusterNodes: clusterNodes(data.REDIS_CLUSTER_NODES),
    redisKeyPrefix: data.REDIS_KEY_PREFIX,
    jwtSecret: data.JWT_SECRET ?? DEV_JWT_SECRET,
    lockTtlMs: data.LOCK_TTL_MS,
    soldMarkTtlMs: data.SOLD_MARK_TTL_MS,
    idempotencyWindowMs: Math.max(data.IDEMPOTENCY_WINDOW_MS, data.LOCK_TTL_MS),
    purchaseStrategy: data.PURCHASE_STRATEGY,
    holdTtlMs: data.HOLD_TTL_MS,
    holdSweepMs: data.HOLD_SWEEP_MS,
    purchaseRateLimit: data.PURCHASE_RATE_LIMIT,
    purchaseRateWindowSeconds: data.PURCHASE_RATE_WINDOW_SECONDS,
    groupCommit: data.GROUP_COMMIT ?? true,
    groupCommitWindowMs: data.GROUP_COMMIT_WINDOW_MS,
    groupCommitMaxSize: data.GROUP_COMMIT_MAX_SIZE,
    saleSettingsTtlMs: data.SALE_SETTINGS_TTL_MS,
    maxBodyBytes: data.MAX_BODY_BYTES,
    maxQueryCost: data.MAX_QUERY_COST,
    wsMaxConnectionsPerAddress: data.WS_MAX_CONNECTIONS_PER_ADDRESS,
    graphiql: data.GRAPHIQL ?? data.NODE_ENV !== 'production',
    introspection: data.INTROSPECTION ?? data.NODE_ENV !== 'production',
    availabilityWindowMs: data.AVAILABILITY_WINDOW_MS,
    availabilityMaxPendingTickets: data.AVAILABILITY_MAX_PENDING_TICKETS,
    availabilityResyncMs: data.AVAILABILITY_RESYNC_MS,
    seedDemo: data.SEED_DEMO ?? data.DATABASE_URL === undefined,
    metrics: data.METRICS ?? data.NODE_ENV !== 'production',
    shutdownGraceMs: data.SHUTDOWN_GRACE_MS,
    dependencyTimeoutMs: data.DEPENDENCY_TIMEOUT_MS,
    logLevel: data.LOG_LEVEL,
    corsOrigins: data.CORS_ORIGINS ?? '*',
  };
}

/** {@link loadConfig} over this process's environment: what entry points call. */
export function loadProcessConfig(): Config {
  return loadConfig(process.env);
}
