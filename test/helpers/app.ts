import { randomBytes } from 'node:crypto';
import { type App, createApp } from '../../src/app.js';
import { signToken } from '../../src/auth/tokens.js';
import type { SectionLayout } from '../../src/catalog/events.js';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';
import type { PurchaseHooks } from '../../src/sales/locked-sale.js';
import { createEventWithTickets } from './events.js';
import { TEST_JWT_SECRET, TEST_REDIS_URL } from './services.js';

/** `real` is Postgres + Redis on loopback; `embedded` is PGlite + the in-process lock and pub/sub. */
export type BackendKind = 'real' | 'embedded';

export interface GraphQLResponse<T = Record<string, unknown>> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown>; path?: unknown[] }>;
  status: number;
}

/** One API instance for a test, reached through `yoga.fetch` (no port). */
export interface TestApp {
  app: App;
  kind: BackendKind;
  redisPrefix: string;
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: { token?: string; authorization?: string },
  ): Promise<GraphQLResponse<T>>;
  /** Statements this instance has sent to its database so far. */
  queries(): number;
  /** Listens on a free loopback port (for WebSocket and SSE clients) and returns its URL; again, the same URL. */
  listen(): Promise<string>;
  stop(): Promise<void>;
}

export interface TestAppOptions {
  kind: BackendKind;
  /** Required for `real`: the test database's URL. */
  databaseUrl?: string;
  /** Share one to make several instances see the same locks. */
  redisPrefix?: string;
  lockTtlMs?: number;
  hooks?: PurchaseHooks;
  env?: Record<string, string>;
}

/** How a test configures an instance, besides its backend, database and Redis key space. */
export type AppSettings = Pick<TestAppOptions, 'lockTtlMs' | 'hooks' | 'env'>;

/** A key prefix no other test uses, so tests share Redis without sharing state. */
export function uniqueRedisPrefix(): string {
  return `flux-test:${randomBytes(5).toString('hex')}:`;
}

/**
 * Two instances on one database and one Redis key space, as two servers behind a balancer; `settings`
 * configures each (a fault drill pauses one of them, say).
 */
export async function startTwoInstances(
  databaseUrl: string,
  settings: [AppSettings, AppSettings] = [{}, {}],
): Promise<[TestApp, TestApp]> {
  const redisPrefix = uniqueRedisPrefix();
  const first = await startTestApp({ ...settings[0], kind: 'real', databaseUrl, redisPrefix });
  try {
    return [first, await startTestApp({ ...settings[1], kind: 'real', databaseUrl, redisPrefix })];
  } catch (error) {
    await first.stop();
    throw error;
  }
}

/** Starts an app instance on the chosen backend with the real config path. */
export async function startTestApp(options: TestAppOptions): Promise<TestApp> {
  const redisPrefix = options.redisPrefix ?? uniqueRedisPrefix();
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    JWT_SECRET: TEST_JWT_SECRET,
    LOCK_TTL_MS: String(options.lockTtlMs ?? 5000),
    REDIS_KEY_PREFIX: redisPrefix,
    // Concurrency tests fire hundreds of attempts from one process; the rate-limit test sets its own.
    PURCHASE_RATE_LIMIT: '0',
    SEED_DEMO: 'false',
    PORT: '0',
    HOST: '127.0.0.1',
    ...options.env,
  };
  if (options.kind === 'real') {
    if (!options.databaseUrl) throw new Error('startTestApp: real backend needs databaseUrl');
    env.DATABASE_URL = options.databaseUrl;
    // A test on its own cluster names it with REDIS_CLUSTER_NODES instead (test/helpers/redis-cluster.ts).
    if (!options.env?.REDIS_CLUSTER_NODES) env.REDIS_URL = options.env?.REDIS_URL ?? TEST_REDIS_URL;
    env.DATABASE_POOL_SIZE = '10';
  }
  const app = await createApp({ config: loadConfig(env), logger: silentLogger, hooks: options.hooks });
  let listening: Promise<string> | undefined;
  return {
    app,
    kind: options.kind,
    redisPrefix,
    async gql(query, variables, headers) {
      const authorization = headers?.authorization ?? (headers?.token ? `Bearer ${headers.token}` : undefined);
      const response = await app.yoga.fetch('http://flux.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as Omit<GraphQLResponse, 'status'>;
      return { ...body, status: response.status } as GraphQLResponse<never>;
    },
    queries: () => app.backends.database.stats.queries,
    listen: () => {
      listening ??= app.start().then(({ url }) => url);
      return listening;
    },
    stop: () => app.stop(),
  };
}

/** A signed customer token for tests. */
export function tokenFor(sub: string, options: { role?: 'customer' | 'organizer'; expiresIn?: string | number } = {}) {
  return signToken(TEST_JWT_SECRET, { sub, role: options.role }, options.expiresIn ?? '1h');
}

/**
 * @deprecated Use {@link createEventWithTickets}, which names both forms of every id. This one
 * answers GraphQL ids under `eventId` and `ticketIds`; it stays for test/holds.test.ts until that
 * file moves over.
 */
export async function createTestEvent(
  app: App,
  options: { seats: number; priceCents?: number; sections?: SectionLayout[] },
): Promise<{ eventId: string; ticketIds: string[]; rawTicketIds: string[] }> {
  const event = await createEventWithTickets({ app }, options);
  return { eventId: event.eventGlobalId, ticketIds: event.ticketGlobalIds, rawTicketIds: event.ticketIds };
}

/** The purchase mutation as a client would send it. */
export const PURCHASE = /* GraphQL */ `
  mutation Purchase($ticketId: ID!) {
    purchaseTicket(input: { ticketId: $ticketId }) {
      __typename
      ... on PurchaseTicketSuccess { order { id totalCents tickets { id status } } }
      ... on TicketUnavailable { message ticketId reason }
      ... on NotFound { message id }
      ... on Error { message }
    }
  }
`;

export interface PurchaseResult {
  purchaseTicket: {
    __typename: 'PurchaseTicketSuccess' | 'TicketUnavailable' | 'NotFound';
    order?: { id: string; totalCents: number; tickets: Array<{ id: string; status: string }> };
    reason?: 'LOCKED' | 'HELD' | 'SOLD';
    ticketId?: string;
    message?: string;
  };
}

/** Buys `ticketId` as `sub` and returns the result member (throws on GraphQL errors). */
export async function purchase(testApp: TestApp, sub: string, ticketId: string) {
  const response = await testApp.gql<PurchaseResult>(PURCHASE, { ticketId }, { token: await tokenFor(sub) });
  if (response.errors || !response.data) throw new Error(`purchase failed: ${JSON.stringify(response.errors)}`);
  return response.data.purchaseTicket;
}
