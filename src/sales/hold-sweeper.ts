import type { Db } from '../db/client.js';
import { type EndedHolds, endHolds } from './end-holds.js';
import { type ReopenDeps, reopenSeats } from './holds.js';

/** Any 64-bit constant shared by every instance: only the instance holding it sweeps. */
const SWEEP_LOCK_KEY = 4_242_002;

/**
 * How soon to look again when a due hold was left ACTIVE (another instance holds the sweep lock, or
 * a checkout has the hold locked): soon, but without spinning while that lasts.
 */
const CONTENDED_RETRY_MS = 25;

/** What the sweeper needs besides its database. */
export interface HoldSweeperDeps extends ReopenDeps {
  /** The longest it waits between two looks, whatever it knows of the next expiry. */
  intervalMs: number;
  /** Most holds ended per statement; a longer backlog takes several statements in one pass. */
  batchSize: number;
  onError: (error: unknown) => void;
  /** Told how many holds a pass ended, when it ended any. */
  onExpired?: ((count: number) => void) | undefined;
}

/** A running sweeper. */
export interface HoldSweeper {
  /** One pass now: ends every hold that is due (if no other instance is sweeping); resolves with how many. */
  sweep(): Promise<number>;
  /** Stops waking (a pass in progress finishes); `resume` starts again. For tests and drains. */
  pause(): void;
  resume(): void;
  /** Stops the timer and waits for a pass in progress and the seats it is still reopening. */
  stop(): Promise<void>;
}

/**
 * When to look next: at the next hold's expiry (told by the database, in its own clock, so the
 * instances' clocks do not matter), but never later than `intervalMs`, which bounds how long a hold
 * made since the last look (or on another instance) may wait.
 */
export function nextLookInMs(nextDueInMs: number | null, intervalMs: number): number {
  if (nextDueInMs === null) return intervalMs;
  if (nextDueInMs <= 0) return Math.min(intervalMs, CONTENDED_RETRY_MS);
  // +1: a timer may fire up to a millisecond early by the database's clock.
  return Math.min(intervalMs, Math.ceil(nextDueInMs) + 1);
}

/**
 * Puts the seats of expired holds back on sale, on time, whatever crashed. Every instance looks at
 * the moment the earliest ACTIVE hold expires (each look's statement says when that is) and at least
 * every `intervalMs`; the statement that wins a transaction-level advisory lock ends the due holds
 * ({@link endHolds}) in batches, so a thousand expiring holds are a few statements on one instance, not
 * a thousand queries on each. A hold thus ends as soon as it is due, not up to a polling period later.
 * Its seats' Redis keys are cleared and the changes published after the commit, off the sweep's own
 * path, so a slow or absent Redis never holds up the next expiry. Nothing here is kept in memory
 * beyond the next wake-up, so an instance that made a hold may die and another still expires it; a
 * Redis that lost every key changes nothing either.
 */
export function startHoldSweeper(db: Db, deps: HoldSweeperDeps): HoldSweeper {
  let running: Promise<number> | undefined;
  let stopped = false;
  let paused = false;
  let timer: NodeJS.Timeout | undefined;
  /** From the last statement: when the next hold is due (see EndedHolds.nextDueInMs). */
  let nextDueInMs: number | null = null;
  const reopening = new Set<Promise<void>>();

  const reopen = (ended: EndedHolds) => {
    if (ended.tickets.length === 0) return;
    const done: Promise<void> = reopenSeats(deps, ended.tickets)
      .catch(deps.onError)
      .finally(() => reopening.delete(done));
    reopening.add(done);
  };

  const pass = async (): Promise<number> => {
    let total = 0;
    for (;;) {
      // One statement, its own transaction: the lock, the holds, their seats and the counts together.
      const ended = await endHolds(db, { due: true, limit: deps.batchSize, sweepLock: SWEEP_LOCK_KEY }, 'EXPIRED');
      nextDueInMs = ended.nextDueInMs;
      reopen(ended);
      total += ended.holds.length;
      if (ended.holds.length > 0) deps.onExpired?.(ended.holds.length);
      if (ended.holds.length < deps.batchSize || stopped) return total;
    }
  };

  const sweep = () => {
    running ??= pass().finally(() => {
      running = undefined;
    });
    return running;
  };

  const schedule = (inMs: number) => {
    clearTimeout(timer);
    timer = undefined;
    if (paused || stopped) return;
    timer = setTimeout(wake, inMs);
    timer.unref();
  };

  function wake() {
    timer = undefined;
    sweep().then(
      () => schedule(nextLookInMs(nextDueInMs, deps.intervalMs)),
      (error: unknown) => {
        deps.onError(error);
        schedule(deps.intervalMs);
      },
    );
  }

  // Look at once: a restarted instance learns when the next hold is due.
  schedule(0);

  return {
    sweep,
    pause() {
      paused = true;
      clearTimeout(timer);
      timer = undefined;
    },
    resume() {
      if (!paused) return;
      paused = false;
      schedule(0);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      await running?.catch(() => {});
      await Promise.all(reopening);
    },
  };
}
