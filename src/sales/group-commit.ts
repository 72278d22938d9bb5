import type { SQL } from 'drizzle-orm';
import { type Db, queryPreparedRows } from '../db/client.js';
import { type BatchOutcome, BatchTransactionError, runInSavepoints } from '../db/savepoint-batch.js';

/**
 * How one buyer's write reaches Postgres: a single statement (the sale, the hold or the checkout
 * statement), whose rows the buyer then reads. Alone, it is its own implicit transaction; through a
 * {@link GroupCommitter}, it shares one transaction with the other buyers of its group. `lockOrder`
 * names the row that buyers may share and that the statement locks after its own seats: the
 * customer's count for the event (`customerId/eventId`). A group runs its statements in that
 * order, so concurrent groups take those rows in one order and cannot deadlock on them.
 */
export type RunStatement = <Row>(name: string, query: SQL, lockOrder: string) => Promise<Row[]>;

/** The statement alone, in its own implicit transaction: one round trip. */
export function soloStatement(db: Db): RunStatement {
  return (name, query) => queryPreparedRows(db, name, query);
}

/** How a group ended, for metrics. */
export type GroupOutcome =
  /** One transaction committed every buyer's work. */
  | 'committed'
  /** The group's transaction failed before any commit; each buyer was committed alone instead. */
  | 'fallback'
  /** The COMMIT went out and its connection was lost: each buyer got that error, as alone. */
  | 'failed';

/** Settings of a {@link GroupCommitter}. */
export interface GroupCommitOptions {
  /** How long the first buyer of a group waits for others before the group goes. */
  windowMs: number;
  /** A group goes as soon as it has this many buyers. */
  maxSize: number;
  /** Groups in flight at once; while all are busy the next group keeps filling (up to `maxSize`). */
  maxInFlight: number;
  /** Told each group's size and how it ended. Must not throw. */
  onGroup?: ((size: number, outcome: GroupOutcome) => void) | undefined;
  /** Told how many buyers of a group had a statement error of their own and were run again alone. */
  onRetried?: ((count: number) => void) | undefined;
}

/** Batches buyers' statements into shared transactions; see {@link createGroupCommitter}. */
export interface GroupCommitter {
  /** The buyer's statement, through the next group; resolves once the group has committed. */
  run: RunStatement;
}

interface Waiting {
  name: string;
  query: SQL;
  lockOrder: string;
  /** When it arrived (performance.now()). */
  at: number;
  resolve: (rows: unknown[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: buyers whose statements arrive within `windowMs` of the first (or `maxSize` of them,
 * whichever first) commit in ONE transaction ({@link runInSavepoints}), so Postgres writes and
 * flushes one commit for them all, and a busy pool makes larger groups instead of longer queues.
 *
 * Each buyer stays all or nothing and decides for itself: its statement runs in a savepoint of its
 * own, and an expected refusal (a seat not AVAILABLE, the limit, a closed sale) is data in its rows,
 * not an error. A buyer whose statement fails (say, its idempotency key's unique index) is rolled
 * back alone and, once the group has committed, runs again alone, so it gets exactly the answer it
 * would have got alone. When the group's transaction fails as a whole before its COMMIT went out
 * (a deadlock, a serialization failure, a lost connection), nothing of it was written and every
 * buyer runs alone. Only a connection lost after the COMMIT went out leaves the group's fate
 * unknown: each buyer then gets that error, as a buyer alone would (retry with the idempotency key).
 */
export function createGroupCommitter(db: Db, options: GroupCommitOptions): GroupCommitter {
  const alone = soloStatement(db);
  let pending: Waiting[] = [];
  let timer: NodeJS.Timeout | undefined;
  let inFlight = 0;

  const waited = () => performance.now() - (pending[0]?.at ?? 0);
  const due = () => pending.length >= options.maxSize || waited() >= options.windowMs;

  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    while (pending.length > 0 && inFlight < options.maxInFlight && due()) {
      // In lock order, so two groups never take two buyers' shared rows in opposite orders (a deadlock).
      const group = pending.slice(0, options.maxSize).sort((a, b) => (a.lockOrder < b.lockOrder ? -1 : 1));
      pending = pending.slice(group.length);
      inFlight++;
      const done = () => {
        inFlight--;
        flush();
      };
      // commitGroup answers every buyer itself; this only guards against a bug leaving one unanswered.
      commitGroup(group).then(done, (error: unknown) => {
        for (const buyer of group) buyer.reject(error);
        done();
      });
    }
    if (pending.length > 0 && !timer && inFlight < options.maxInFlight) {
      timer = setTimeout(flush, Math.max(0, options.windowMs - waited()));
    }
  };

  const commitGroup = async (group: Waiting[]): Promise<void> => {
    let outcomes: BatchOutcome[];
    try {
      outcomes = await runInSavepoints(db, group);
    } catch (error) {
      if (error instanceof BatchTransactionError && error.commitSent) {
        options.onGroup?.(group.length, 'failed');
        for (const buyer of group) buyer.reject(error.cause);
        return;
      }
      options.onGroup?.(group.length, 'fallback');
      await Promise.all(
        group.map((buyer) => alone(buyer.name, buyer.query, buyer.lockOrder).then(buyer.resolve, buyer.reject)),
      );
      return;
    }
    options.onGroup?.(group.length, 'committed');
    const retried = group.filter((_, i) => !outcomes[i]?.ok);
    if (retried.length > 0) options.onRetried?.(retried.length);
    group.forEach((buyer, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) buyer.resolve(outcome.rows);
    });
    await Promise.all(
      retried.map((buyer) => alone(buyer.name, buyer.query, buyer.lockOrder).then(buyer.resolve, buyer.reject)),
    );
  };

  return {
    run<Row>(name: string, query: SQL, lockOrder: string): Promise<Row[]> {
      return new Promise<unknown[]>((resolve, reject) => {
        pending.push({ name, query, lockOrder, at: performance.now(), resolve, reject });
        flush();
      }) as Promise<Row[]>;
    },
  };
}
