import { setTimeout as sleep } from 'node:timers/promises';
import { PURCHASE, type PurchaseResult, type TestApp, tokenFor } from './app.js';

/** One purchase attempt of the drill: when it was answered, for which seat, and how. */
export interface DrillAttempt {
  /** Milliseconds since the drill started, when the attempt was sent and when its answer came. */
  sentAt: number;
  at: number;
  seat: number;
  outcome: 'sold' | 'refused' | 'failed';
  /** `extensions.code` of a failed attempt (SERVICE_UNAVAILABLE while Redis fails over). */
  code?: string | undefined;
}

/** Buyers of one event, paced, each going for a seat it has not seen sold, through both instances. */
export interface DrillBuyers {
  attempts: DrillAttempt[];
  /** Milliseconds since the drill started. */
  now(): number;
  /** Seats not yet seen sold. */
  unsold(): number;
  stop(): Promise<void>;
}

/**
 * Starts `workers` buyers, each sending its next attempt `pauseMs` after an answer, until stopped.
 * A seat leaves the pool once an attempt sees it SOLD or buys it; a failed attempt leaves it in.
 */
export function startDrillBuyers(
  instances: readonly TestApp[],
  ticketGlobalIds: readonly string[],
  options: { workers: number; pauseMs: number },
): DrillBuyers {
  const started = performance.now();
  const now = () => performance.now() - started;
  const unsold = new Set(ticketGlobalIds.map((_, i) => i));
  const attempts: DrillAttempt[] = [];
  let running = true;
  let sent = 0;
  const worker = async (w: number) => {
    while (running && unsold.size > 0) {
      const pool = [...unsold];
      const seat = pool[Math.floor(Math.random() * pool.length)] as number;
      const via = instances[sent++ % instances.length] as TestApp;
      const token = await tokenFor(`drill-${w}-${sent}`);
      const sentAt = now();
      const response = await via.gql<PurchaseResult>(PURCHASE, { ticketId: ticketGlobalIds[seat] }, { token });
      const result = response.data?.purchaseTicket;
      if (result?.__typename === 'PurchaseTicketSuccess' || result?.reason === 'SOLD') unsold.delete(seat);
      if (result?.__typename === 'PurchaseTicketSuccess') attempts.push({ sentAt, at: now(), seat, outcome: 'sold' });
      else if (result) attempts.push({ sentAt, at: now(), seat, outcome: 'refused' });
      else {
        const code = response.errors?.[0]?.extensions?.code;
        attempts.push({
          sentAt,
          at: now(),
          seat,
          outcome: 'failed',
          code: typeof code === 'string' ? code : undefined,
        });
      }
      await sleep(options.pauseMs);
    }
  };
  const done = Promise.all(Array.from({ length: options.workers }, (_, w) => worker(w)));
  return {
    attempts,
    now,
    unsold: () => unsold.size,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/** What the drill measured: how long purchases failed or waited, and how many failed. */
export interface FailoverFigures {
  /** Failed attempts, and of those, how many had SERVICE_UNAVAILABLE. */
  failed: number;
  unavailable: number;
  /** From the kill to the last failed answer, in ms (0 when none failed). */
  failingForMs: number;
  /** The slowest answer to an attempt sent after the kill, in ms: a purchase that waited out the failover. */
  slowestAnswerMs: number;
  /**
   * From the kill to the first sale of a seat on the killed shard whose attempt was sent after the
   * kill, in ms: how long that shard's seats could not be bought. (A sale whose lock was taken before
   * the kill may still commit during it: Postgres decides, and its sold mark is simply lost.)
   */
  shardSellsAgainAfterMs: number | undefined;
}

/** Reads the figures off the attempts; `onShard` says whether a seat's lock lives on the killed shard. */
export function failoverFigures(
  attempts: readonly DrillAttempt[],
  killedAt: number,
  onShard: (seat: number) => boolean,
): FailoverFigures {
  const failures = attempts.filter((a) => a.outcome === 'failed');
  const after = attempts.filter((a) => a.sentAt >= killedAt);
  const resumed = after.filter((a) => a.outcome === 'sold' && onShard(a.seat)).sort((a, b) => a.at - b.at)[0];
  return {
    failed: failures.length,
    unavailable: failures.filter((a) => a.code === 'SERVICE_UNAVAILABLE').length,
    failingForMs: Math.round(Math.max(killedAt, ...failures.map((a) => a.at)) - killedAt),
    slowestAnswerMs: Math.round(Math.max(0, ...after.map((a) => a.at - a.sentAt))),
    shardSellsAgainAfterMs: resumed && Math.round(resumed.at - killedAt),
  };
}
