/** Which dependency an error says is unreachable, if it says so. */
export type Dependency = 'redis' | 'postgres';

/** postgres.js's own codes for a connection that could not be made or was lost. */
const POSTGRES_CONNECTION_CODES = new Set([
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
]);

/** SQLSTATE classes of a lost or refused server: 08 connection exception, 57P operator intervention. */
const POSTGRES_UNAVAILABLE_STATE = /^(08|57P0|53300)/;

/**
 * ioredis' messages for a command that could not reach the server. On a cluster, a command that kept
 * failing through a failover (timed out, then redirected again) ends as `Too many Cluster
 * redirections. Last error: …`, a new Error with no cause.
 */
const REDIS_MESSAGES =
  /^(Connection is closed\.|Command timed out|Stream isn't writeable|Reached the max retries per request limit|Too many Cluster redirections)/;

/**
 * The dependency `error` (or anything in its cause chain) says is down or unreachable: a refused or
 * lost connection, a timed-out command, a server shutting down. Undefined for any other error.
 */
export function unavailableDependency(error: unknown): Dependency | undefined {
  for (let e: unknown = error; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const { name, message, code } = e as { name?: unknown; message?: unknown; code?: unknown };
    // Locks Redis lost before the request's statement ran (sales/errors.ts): Postgres refused them.
    if (name === 'MaxRetriesPerRequestError' || name === 'LockLostError') return 'redis';
    if (typeof message === 'string' && REDIS_MESSAGES.test(message)) return 'redis';
    if (typeof code === 'string' && POSTGRES_CONNECTION_CODES.has(code)) return 'postgres';
    if (typeof code === 'string' && POSTGRES_UNAVAILABLE_STATE.test(code)) return 'postgres';
    // ioredis turns its connection errors into the ones above; a raw socket error here is postgres.js'.
    if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT') return 'postgres';
  }
  return undefined;
}
