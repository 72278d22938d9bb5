import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTokenVerifier } from './auth/tokens.js';
import { type Backends, createBackends } from './backends.js';
import { createSaleSettingsCache } from './catalog/sale-settings.js';
import type { Config } from './config.js';
import type { AppServices } from './context.js';
import { createAvailabilityHub } from './events/availability-hub.js';
import { createGraphQLServer, type Yoga } from './graphql/yoga.js';
import { attachGraphQLWs } from './graphql-ws.js';
import { limitBodySize } from './http/body-limit.js';
import { consoleLogger, type Logger } from './logger.js';
import type { PurchaseHooks } from './sales/purchase.js';
import { selectPurchaseStrategy } from './sales/strategies.js';

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
  /** Listens on `config.port` (0 picks a free one) and resolves with the bound URL. */
  start(): Promise<{ url: string; port: number }>;
  /** Closes connections, then the backends. Safe to call twice. */
  stop(): Promise<void>;
}

/** Builds one API instance over its backends: yoga and graphql-ws on one HTTP server at `/graphql`. */
export async function createApp(options: AppOptions): Promise<App> {
  const { config } = options;
  const logger = options.logger ?? consoleLogger;
  const backends = await createBackends(config, (error) => logger.warn('redis pub/sub error', error));
  const db = backends.database.db;
  const availability = createAvailabilityHub(backends.liveDatabase.db, backends.bus, {
    windowMs: config.availabilityWindowMs,
    resyncMs: config.availabilityResyncMs,
    maxPendingTickets: config.availabilityMaxPendingTickets,
    onError: (error) => logger.error('live availability: reading the event failed; retrying', error),
  });
  const saleSettings = createSaleSettingsCache(db, config.saleSettingsTtlMs);
  const stopHearingSales = await backends.bus.onSaleChanged((eventId) => saleSettings.invalidate(eventId));
  const services: AppServices = {
    db,
    availability,
    verifyToken: createTokenVerifier(config.jwtSecret),
    purchaseTickets: selectPurchaseStrategy(config.purchaseStrategy),
    announceSaleChange: (eventId) => backends.bus.publishSaleChanged(eventId),
    purchase: {
      lock: backends.lock,
      saleSettings,
      attempts: backends.attempts,
      inFlightWaitMs: config.lockTtlMs,
      hooks: options.hooks,
      onLockError: (error) => logger.warn('ticket lock: release or sold mark failed', error),
      onTicketChanged: (ticket) =>
        availability.publish(ticket.eventId, [
          {
            id: ticket.id,
            status: ticket.status,
            version: ticket.version,
            statusChangedAt: ticket.statusChangedAt?.toISOString() ?? null,
          },
        ]),
    },
  };
  const yoga = createGraphQLServer(config, services, logger);
  const server: Server = createServer(limitBodySize(yoga, config.maxBodyBytes));
  const ws = attachGraphQLWs(server, yoga);

  let stopping: Promise<void> | undefined;
  return {
    yoga,
    services,
    backends,
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
        availability.close();
        stopHearingSales();
        await ws.close();
        if (server.listening) {
          const closed = new Promise<void>((resolve) => server.close(() => resolve()));
          server.closeAllConnections();
          await closed;
        }
        await yoga.dispose();
        await backends.close();
      })();
      return stopping;
    },
  };
}
