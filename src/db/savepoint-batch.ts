import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { ReservedSql, Sql } from 'postgres';
import type { Db } from './client.js';

/** One statement of a batch, named as for `queryPreparedRows` (one name per SQL text). */
export interface BatchStatement {
  name: string;
  query: SQL;
}

/** What one statement of a batch did: its rows, or its own error (its savepoint was rolled back). */
export type BatchOutcome = { ok: true; rows: unknown[] } | { ok: false; error: unknown };

/**
 * The batch's transaction failed as a whole. `commitSent` false: Postgres never saw the COMMIT, so
 * nothing of the batch was written. True: the COMMIT went out and no answer proves what became of it
 * (a lost connection); a server error answering the COMMIT itself is a rollback and reads as false.
 */
export class BatchTransactionError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly commitSent: boolean,
  ) {
    super(`batch transaction failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'BatchTransactionError';
  }
}

const dialect = new PgDialect();

/** True when `db` is postgres.js, whose connections {@link runInSavepoints} can reserve. */
export function canBatch(db: Db): boolean {
  const client = (db as unknown as { $client?: Partial<Sql> }).$client;
  return typeof client?.reserve === 'function';
}

/**
 * Runs `statements` in ONE transaction on one reserved connection, each inside a savepoint of its
 * own, and commits. Everything is pipelined: BEGIN and every SAVEPOINT, statement and RELEASE go
 * out in one write, and the client waits once for their answers, not once per statement. When a
 * statement fails, Postgres refuses everything after it (the transaction is aborted), so the batch
 * rolls back to that statement's savepoint, records its error and sends the rest again: the
 * statements before it keep their work, and no statement's failure undoes another's.
 *
 * @throws BatchTransactionError when the transaction itself failed (see its `commitSent`).
 */
export async function runInSavepoints(db: Db, statements: readonly BatchStatement[]): Promise<BatchOutcome[]> {
  const client = (db as unknown as { $client: Sql }).$client;
  const queries = statements.map((s) => dialect.sqlToQuery(s.query));
  const outcomes: BatchOutcome[] = [];
  let commitSent = false;
  let lost = false;
  let connection: ReservedSql | undefined;
  try {
    connection = await client.reserve();
    const c = connection;
    const begun = c.unsafe('begin').execute();
    while (outcomes.length < queries.length) {
      const from = outcomes.length;
      const sent = queries.slice(from).map((q, k) => {
        const savepoint = `b${from + k}`;
        return [
          c.unsafe(`savepoint ${savepoint}`).execute(),
          c.unsafe(q.sql, q.params as never[], { prepare: true }).execute(),
          c.unsafe(`release savepoint ${savepoint}`).execute(),
        ] as const;
      });
      // Settled before BEGIN's answer is awaited: when the connection goes, every step fails at once,
      // and a failure nobody listens to yet would end the process (an unhandled rejection).
      const settling = Promise.all(sent.map((steps) => Promise.allSettled(steps)));
      if (from === 0) await begun;
      const settled = await settling;
      for (const [k, [savepoint, statement, release]] of settled.entries()) {
        if (savepoint.status === 'rejected') throw savepoint.reason;
        if (statement.status === 'fulfilled') {
          if (release.status === 'rejected') throw release.reason;
          outcomes.push({ ok: true, rows: [...statement.value] });
          continue;
        }
        // This statement failed: undo it alone, and send the ones after it again.
        await c.unsafe(`rollback to savepoint b${from + k}`);
        outcomes.push({ ok: false, error: statement.reason });
        break;
      }
    }
    commitSent = true;
    await c.unsafe('commit');
    return outcomes;
  } catch (error) {
    // A server's answer to the COMMIT (an ErrorResponse) means it rolled back; only a lost
    // connection after the COMMIT leaves its fate unknown.
    const answered = error instanceof Error && error.name === 'PostgresError';
    // A lost connection has rolled back by itself, and is the pool's again: the pool may already be
    // reconnecting it for another query, which a ROLLBACK sent on it now would come before.
    lost = connectionLost(error);
    if (!commitSent && connection && !lost) await connection.unsafe('rollback').catch(() => {});
    throw new BatchTransactionError(error, commitSent && !answered);
  } finally {
    // Released only if still open (the patched postgres.js also ignores a release after a close).
    if (!lost) connection?.release();
  }
}

/** postgres.js' codes, and SQLSTATEs, of a connection that was closed or cut (the server went away, or ended it). */
const LOST = new Set(['CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'ECONNRESET', 'EPIPE']);

/** Whether `error` says the statement's connection is gone (so it must not be used, nor handed back). */
export function connectionLost(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (LOST.has(code) || /^(08|57P0)/.test(code));
}
