import { createApp } from './app.js';
import { signToken } from './auth/tokens.js';
import { DEMO_EVENT, seedDemoEvent } from './catalog/demo.js';
import { firstAvailableTicket } from './catalog/storage.js';
import { ConfigError, loadProcessConfig } from './config.js';
import { ticketGlobalId } from './graphql/global-id.js';
import { consoleLogger, createLogger } from './logger.js';

let config: ReturnType<typeof loadProcessConfig>;
try {
  config = loadProcessConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  consoleLogger.error(error.message);
  process.exit(1);
}

const log = createLogger({ production: config.nodeEnv === 'production', level: config.logLevel });
const app = await createApp({ config, logger: log });
const seedStart = performance.now();
if (config.seedDemo) await seedDemoEvent(app.services.db);
const seedMs = performance.now() - seedStart;
const { url } = await app.start();

const { embedded } = app.backends;
if (embedded.database || embedded.redis) {
  const parts = [
    embedded.database && 'PGlite (in memory unless PGLITE_DATA_DIR is set)',
    embedded.redis && 'in-process lock and pub/sub',
  ];
  log.info(
    `EMBEDDED MODE: ${parts.filter(Boolean).join(' + ')}. One process only: data is not shared across instances. Not for production; set DATABASE_URL and REDIS_URL.`,
  );
}
if (config.seedDemo && config.nodeEnv !== 'production') await printDemoHints();
// performance.now() counts from the process start, so this includes loading the code.
const ready = performance.now();
const { database, migrations } = app.backends.startupMs;
const ms = (n: number) => `${Math.round(n)} ms`;
log.info(
  `Flux-Order listening: ${url} (open it in a browser for GraphiQL; the live seat map is at ${new URL('/', url)}). Ready ${ms(ready)} after the process started: ${ms(ready - database - migrations - seedMs)} of our own, ${ms(database)} database start, ${ms(migrations)} migrations, ${ms(seedMs)} demo seed.`,
);

/** The token and operation a newcomer pastes into GraphiQL. */
async function printDemoHints() {
  const token = await signToken(config.jwtSecret, { sub: 'demo-buyer' }, '7d');
  const ticket = await firstAvailableTicket(app.services.db, DEMO_EVENT.id ?? '');
  log.info(`Demo customer token (GraphiQL → Headers tab: {"Authorization": "Bearer <token>"}):\n  ${token}`);
  if (ticket) {
    log.info(
      `Try: mutation { purchaseTicket(input: { ticketId: "${ticketGlobalId(ticket)}" }) { __typename ... on PurchaseTicketSuccess { order { id totalCents tickets { section row seat } } } ... on Error { message } } }`,
    );
  }
}

// In-flight requests get SHUTDOWN_GRACE_MS; closing the connections and the backends gets 10 s more.
const forceAfterMs = config.shutdownGraceMs + 10_000;
let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: stopping`);
    const forced = setTimeout(() => {
      log.error(`stop took over ${Math.round(forceAfterMs / 1000)} s; exiting anyway`);
      process.exit(1);
    }, forceAfterMs);
    forced.unref();
    app.stop().then(
      () => {
        log.info('stopped cleanly');
        process.exit(0);
      },
      (error: unknown) => {
        log.error('stop failed', error);
        process.exit(1);
      },
    );
  });
}
