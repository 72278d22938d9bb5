import type { Db } from '../db/client.js';
import { endHolds } from './hold-storage.js';
import { type ReopenDeps, reopenSeats } from './holds.js';

/** Any 64-bit constant shared by every instance: only the instance holding it sweeps. */
const SWEEP_LOCK_KEY = 4_242_002;

/** What the sweeper needs besides its database. */
export interface HoldSweeperDeps extends ReopenDeps {
  /** How often to look for holds past their expiry. */
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
  /** Stops the timer and waits for a pass in progress. */
  stop(): Promise<void>;
}

/**
 * Puts the seats of expired holds back on sale, on time, whatever crashed: every instance wakes
 * every `intervalMs` and sends one statement ({@link endHolds}); the statement that wins a
 * transaction-level advisory lock ends the due holds in batches, so a thousand expiring holds are a few
 * statements on one instance, not a thousand queries on each. The seats' Redis keys are cleared and
 * the changes published after each commit. Nothing here is kept in memory, so an instance that made
 * a hold may die and another still expires it; a Redis that lost every key changes nothing either.
 */
export function startHoldSweeper(db: Db, deps: HoldSweeperDeps): HoldSweeper {
  let running: Promise<number> | undefined;
  let stopped = false;

  const pass = async (): Promise<number> => {
    let total = 0;
    for (;;) {
      // One statement, its own transaction: the lock, the holds, their seats and the counts together.
      const ended = await endHolds(db, { due: true, limit: deps.batchSize, sweepLock: SWEEP_LOCK_KEY }, 'EXPIRED');
      await reopenSeats(deps, ended.tickets);
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

  let timer: NodeJS.Timeout | undefined;
  const resume = () => {
    if (timer || stopped) return;
    timer = setInterval(() => {
      sweep().catch(deps.onError);
    }, deps.intervalMs);
    timer.unref();
  };
  const pause = () => {
    clearInterval(timer);
    timer = undefined;
  };
  resume();

  return {
    sweep,
    pause,
    resume,
    async stop() {
      stopped = true;
      pause();
      await running?.catch(() => {});
    },
  };
}
