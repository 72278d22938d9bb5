import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTokenVerifier } from './auth/tokens.js';
import { createEvent } from './catalog/events.js';
import { createSaleSettingsCache } from './catalog/sale-settings.js';
import type { TicketChange } from './catalog/ticket-change.js';
import type { Config } from './config.js';
import { contenders } from './contenders/index.js';
import { projectPath } from './db/project-root.js';
import { createAvailabilityHub } from './events/availability-hub.js';
import type { AppServices } from './graphql/context.js';
import { createGraphQLServer, type Yoga } from './graphql/yoga.js';
import { type Backends, createBackends } from './infra/backends.js';
import { createLogger, type Logger } from './logger.js';
import { createOpsGate } from './ops/http.js';
import { createMetrics, type Metrics } from './ops/metrics.js';
import { createGroupCommitter, type GroupCommitter } from './sales/group-commit.js';
import { type HoldSweeper, startHoldSweeper } from './sales/hold-sweeper.js';
import { createLockedSale, type PurchaseHooks } from './sales/locked-sale.js';
import { advanceMarks, keepMarksWhole, reloadMarks } from './sales/marks.js';
import { createPurchaseService } from './sales/purchase-service.js';
import { withWebPage } from './site/web-page.js';
import { limitBodySize } from './transport/body-limit.js';
import { allowOrigins } from './transport/cors.js';
import { refuseCrossSiteForms } from './transport/csrf.js';
import { attachGraphQLWs } from './transport/graphql-ws.js';

/**
 * A drain keeps the port open, answering 503, until no request has come for this long: clients and
 * balancers that saw the 503 (or /ready) have gone elsewhere, so closing resets no one's connection.
 */
const DRAIN_QUIET_MS = 250;

/** Most holds the sweeper ends in one statement. */
const HOLD_SWEEP_BATCH = 500;

/** What {@link createApp} needs; everything else comes from `config`. */
export interface AppOptions {
  config: Config;
  logger?: Logger;
  /** Fault-drill seams on the purchase path (tests only). */
  hooks?: PurchaseHooks;
}

/** A running (or runnable) API instance. */
export interface App {
  yoga: Yoga;
  services: AppServices;
  backends: Backends;
  /** Puts expired holds' seats back on sale (one instance at a time). */
  holdSweeper: HoldSweeper;
  /** Listens on `config.port` (0 picks a free one) and resolves with the bound URL. */
  start(): Promise<{ url: string; port: number }>;
  /** Closes connections, then the backends. Safe to call twice. */
  stop(): Promise<void>;
}

/** Builds one API instance over its backends: yoga and graphql-ws on one HTTP server at `/graphql`. */
export async function createApp(options: AppOptions): Promise<App> {
  const { config } = options;
  const logger =
    options.logger ?? createLogger({ production: config.nodeEnv === 'production', level: config.logLevel });
  const backends = await createBackends(config, logger.failure);
  const db = backends.database.db;
  const availability = createAvailabilityHub(backends.liveDatabase.db, backends.bus, {
    windowMs: config.availabilityWindowMs,
    resyncMs: config.availabilityResyncMs,
    maxPendingTickets: config.availabilityMaxPendingTickets,
    onError: (error) => logger.error('live availability: reading the event failed; retrying', error),
  });
  const saleSettings = createSaleSettingsCache(db, config.saleSettingsTtlMs);
  const stopHearingSales = await backends.bus.onSaleChanged((eventId) => saleSettings.invalidate(eventId));
  const metrics = createMetrics({
    liveSubscribers: () => availability.stats().subscribers,
    liveEvents: () => availability.stats().events,
    resyncBlocksRead: () => availability.blocksRead(),
  });
  const publish = (eventId: string, changes: TicketChange[]) => {
    metrics.published(1);
    availability.publish(eventId, changes);
  };
  const onLockError = (error: unknown) => logger.failure('ticket lock: release or mark failed', error);
  // After Redis loses an event's seat marks, they are put back from Postgres (sales/marks.ts), as
  // background work: on its own connection, out of the request path's statement counts.
  const marksKeeper = keepMarksWhole(backends.lock, {
    reload: (eventId, epoch, pending) =>
      reloadMarks(backends.backgroundDatabase.db, backends.lock, eventId, epoch, pending),
    advance: (eventId, epoch) => advanceMarks(backends.backgroundDatabase.db, backends.lock, eventId, epoch),
    onError: (error) => logger.failure('seat marks: a reload from Postgres failed; the next read retries', error),
    onVouched: (eventId, { seats, rounds, ms }) =>
      logger.info(`seat marks of event ${eventId} reloaded from Postgres: ${seats} seats, ${rounds} rounds, ${ms} ms`),
    lockTtlMs: config.lockTtlMs,
  });
  const { lock } = marksKeeper;
  const groupCommit = groupCommitterOf(config, backends, metrics);
  const { purchaseStrategy } = config;
  const sell =
    purchaseStrategy === 'redis-lock'
      ? createLockedSale({
          lock,
          keyAttempts: backends.keyAttempts,
          saleSettings,
          inFlightWaitMs: config.lockTtlMs,
          onLockError,
          lockTaken: metrics.lockTaken,
          groupCommit,
          hooks: options.hooks,
        })
      : contenders[purchaseStrategy];
  const services: AppServices = {
    db,
    availability,
    verifyToken: createTokenVerifier(config.jwtSecret),
    createEvent: (input) => createEvent(db, input, (eventId) => lock.openMarks(eventId)),
    announceSaleChange: (eventId) => backends.bus.publishSaleChanged(eventId),
    purchases: createPurchaseService(db, {
      lock,
      keyAttempts: backends.keyAttempts,
      seatIndex: backends.seatIndex,
      attempts: backends.attempts,
      sell,
      publish,
      onLockError,
      saleSettings,
      holdTtlMs: config.holdTtlMs,
      inFlightWaitMs: config.lockTtlMs,
      groupCommit,
      observe: metrics.outcome,
      lockTaken: metrics.lockTaken,
    }),
  };
  const holdSweeper = startHoldSweeper(backends.backgroundDatabase.db, {
    intervalMs: config.holdSweepMs,
    batchSize: HOLD_SWEEP_BATCH,
    lock,
    onLockError,
    publish,
    onExpired: metrics.holdsExpired,
    onError: (error) => logger.failure('hold sweeper: a pass failed; the next one retries', error),
  });
  const registry = config.metrics ? metrics.registry : undefined;
  const yoga = createGraphQLServer(config, services, logger, registry);
  // The seat-map page (web/, built into dist/web) in front of the API; demo sign-in never in production.
  const page = withWebPage(limitBodySize(refuseCrossSiteForms(yoga), config.maxBodyBytes), {
    root: projectPath('dist', 'web'),
    demoSignInSecret: config.nodeEnv === 'production' ? undefined : config.jwtSecret,
  });
  const gate = createOpsGate(page, { checks: backends.checks, registry });
  // Outermost, so every answer carries CORS headers: 413, 411, the drain's 503 and /ready included.
  const server: Server = createServer(allowOrigins(gate.listener, config.corsOrigins));
  const ws = attachGraphQLWs(server, yoga, {
    maxPayloadBytes: config.maxBodyBytes,
    maxConnectionsPerAddress: config.wsMaxConnectionsPerAddress,
  });

  let stopping: Promise<void> | undefined;
  return {
    yoga,
    services,
    backends,
    holdSweeper,
    start: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          const { port } = server.address() as AddressInfo;
          const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
          resolve({ url: `http://${host}:${port}/graphql`, port });
        });
      }),
    stop() {
      stopping ??= (async () => {
        // Readiness turns 503 and every new request is answered 503 SERVICE_UNAVAILABLE. The port
        // stays open until the in-flight requests are done, so a client that connects meanwhile gets
        // that answer rather than a reset connection.
        gate.drain();
        // A pass stuck on an unreachable Postgres must not hold the drain up past its grace.
        await Promise.race([holdSweeper.stop(), sleep(config.shutdownGraceMs)]);
        availability.close();
        stopHearingSales();
        await ws.close(config.shutdownGraceMs);
        // In-flight requests finish, and their locks become sold marks or are released.
        const cut = await gate.idle(config.shutdownGraceMs, DRAIN_QUIET_MS);
        if (cut > 0)
          logger.warn(`stop: ${cut} requests still running after ${config.shutdownGraceMs} ms; cutting them`);
        if (server.listening) {
          const closed = new Promise<void>((resolve) => server.close(() => resolve()));
          // Requests that arrived in the meantime are answered 503 before their connections go.
          await gate.idle(Math.min(1000, config.shutdownGraceMs), 0);
          server.closeAllConnections();
          await closed;
        }
        await yoga.dispose();
        await marksKeeper.stop();
        await backends.close();
      })();
      return stopping;
    },
  };
}

/**
 * The group committer on Postgres when `GROUP_COMMIT` is on. Embedded PGlite commits each winner
 * alone: it runs one statement at a time in this process with no connection pool and no network
 * round trip to save, so a group would only make winners wait for the window.
 */
function groupCommitterOf(config: Config, backends: Backends, metrics: Metrics): GroupCommitter | undefined {
  const { database } = backends;
  if (!config.groupCommit || database.kind !== 'postgres') return undefined;
  return createGroupCommitter(database.db, {
    windowMs: config.groupCommitWindowMs,
    maxSize: config.groupCommitMaxSize,
    // Half the pool: the other half stays free for refusals' reads and everything else.
    maxInFlight: Math.max(1, Math.floor(config.databasePoolSize / 2)),
    onGroup: metrics.groupCommitted,
    onRetried: metrics.groupRetried,
  });
}
