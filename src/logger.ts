import pino from 'pino';

/** The logging the app does; tests pass {@link silentLogger}. */
export interface Logger {
  info(message: string): void;
  warn(message: string, error?: unknown): void;
  error(message: string, error?: unknown): void;
  /**
   * A failure that may repeat once per request (Redis down, Postgres unreachable): logged at most once
   * per `kind` per interval, with how many were left out since, and without stack or SQL in production.
   */
  failure(kind: string, error: unknown): void;
}

/** How often each kind of failure may be logged. */
const FAILURE_INTERVAL_MS = 10_000;

/** The error's own message, without a query's SQL and parameters (Drizzle puts them in front). */
export function plainMessage(error: unknown): string {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    const message = e instanceof Error ? e.message : String(e);
    if (!message.startsWith('Failed query:')) return message;
    if (!(e as { cause?: unknown }).cause) return 'a database query failed';
  }
  return String(error);
}

/** Wraps `log` so that each kind of failure is written at most once per interval. */
function rateLimitedFailures(log: (kind: string, error: unknown, suppressed: number) => void, now = Date.now) {
  const kinds = new Map<string, { loggedAt: number; suppressed: number }>();
  return (kind: string, error: unknown) => {
    const seen = kinds.get(kind);
    const at = now();
    if (seen && at - seen.loggedAt < FAILURE_INTERVAL_MS) {
      seen.suppressed++;
      return;
    }
    if (kinds.size > 1000) kinds.clear(); // kinds are ours, not clients', but stay bounded anyway
    kinds.set(kind, { loggedAt: at, suppressed: 0 });
    log(kind, error, seen?.suppressed ?? 0);
  };
}

/**
 * Production: one JSON line per record (pino), errors as their message only. Elsewhere: plain lines
 * on the console, errors with their stack, which is what a person at a terminal wants.
 */
export function createLogger(options: { production: boolean; level: pino.LevelWithSilent }): Logger {
  if (!options.production) {
    return {
      ...consoleLogger,
      failure: rateLimitedFailures((kind, error, suppressed) =>
        console.error(`${kind}${suppressed ? ` (${suppressed} more since the last line)` : ''}:`, error),
      ),
    };
  }
  const log = pino({ level: options.level, base: undefined });
  const err = (error: unknown) => (error === undefined ? {} : { error: plainMessage(error) });
  return {
    info: (message) => log.info(message),
    warn: (message, error) => log.warn(err(error), message),
    error: (message, error) => log.error(err(error), message),
    failure: rateLimitedFailures((kind, error, suppressed) =>
      log.error({ kind, error: plainMessage(error), suppressed }, kind),
    ),
  };
}

/** Writes to stdout and stderr. */
export const consoleLogger: Logger = {
  info: (message) => console.log(message),
  warn: (message, error) => console.warn(message, ...(error === undefined ? [] : [error])),
  error: (message, error) => console.error(message, ...(error === undefined ? [] : [error])),
  failure: (kind, error) => console.error(`${kind}:`, error),
};

/** Drops everything. */
export const silentLogger: Logger = { info() {}, warn() {}, error() {}, failure() {} };
