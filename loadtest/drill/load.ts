import { Pool } from 'undici';
import { assertLoopback, sleep } from '../services.js';
import type { Attempt, History, OpKind, Outcome } from './history.js';
import { bodyOf, send } from './requests.js';

/** How the drill's clients behave. */
export interface LoadSettings {
  /**
   * Buyers. With `rate` 0 each is a closed-loop client: it starts its next session when the last one
   * is settled. Otherwise sessions take the buyers in turn.
   */
  workers: number;
  /**
   * Sessions started per second whatever the answers (open loop), or 0 for the closed loop. A session
   * is one purchase, one multi-seat purchase, or a hold and what follows it.
   */
  rate: number;
  /** No answer within this is an unknown outcome, retried with the same key. */
  timeoutMs: number;
  /** How long an operation keeps retrying an unknown outcome before it stays unknown. */
  retryForMs: number;
  /** From a hold's answer to its checkout or release. */
  thinkMs: number;
  /** Where buyers pick seats: the first `hotSeats` seats not yet seen sold (so they contend). */
  hotSeats: number;
}

/**
 * How long buyers leave a seat they were told is held, as a seat map shows it held. Without this the
 * load collapses onto the few held seats: every client hammers them for cheap HELD refusals, the
 * venue barely sells, and any fault that lets those holds lapse turns the mix into real sales,
 * which reads as lost throughput though nothing is slow.
 */
export const HELD_SEAT_AVOID_MS = 1000;

/**
 * What buyers know of the venue: seats seen sold (from their own wins and from refusals naming SOLD),
 * and seats seen held lately (refusals naming HELD). They pick among the first `hot` seats not seen
 * sold, skipping seats seen held in the last {@link HELD_SEAT_AVOID_MS}, so buyers contend as in a
 * rush, and the window moves down the venue as it sells.
 */
export class SeatPicker {
  private readonly sold: Uint8Array;
  /** When each seat was last seen held (epoch ms; -Infinity: never). */
  private readonly heldAt: Float64Array;
  private readonly indexOf: Map<string, number>;
  private low = 0;

  constructor(
    private readonly ids: readonly string[],
    private readonly hot: number,
    private readonly now: () => number = Date.now,
  ) {
    this.sold = new Uint8Array(ids.length);
    this.heldAt = new Float64Array(ids.length).fill(Number.NEGATIVE_INFINITY);
    this.indexOf = new Map(ids.map((seat, i) => [seat, i]));
  }

  markSold(id: string): void {
    const i = this.indexOf.get(id);
    if (i === undefined) return;
    this.sold[i] = 1;
    while (this.low < this.ids.length && this.sold[this.low]) this.low++;
  }

  markHeld(id: string): void {
    const i = this.indexOf.get(id);
    if (i !== undefined) this.heldAt[i] = this.now();
  }

  /**
   * `count` adjacent seats not seen sold nor lately held, from the hot window; a seat not seen sold
   * (held lately or not) when none are; null when the venue is sold out.
   */
  pick(count: number): string[] | null {
    if (this.low >= this.ids.length) return null;
    const heldSince = this.now() - HELD_SEAT_AVOID_MS;
    for (let tries = 0; tries < 20; tries++) {
      const start = this.low + Math.floor(Math.random() * this.hot);
      const seats: string[] = [];
      for (let i = start; i < this.ids.length && seats.length < count; i++)
        if (!this.sold[i] && (this.heldAt[i] ?? 0) <= heldSince) seats.push(this.ids[i] ?? '');
      if (seats.length === count) return seats;
    }
    return [this.ids[this.low] ?? ''];
  }
}

/** The drill's clients, running until `stop()`; every attempt goes into the history. */
export interface Load {
  readonly history: History;
  /** Stops sending new operations and waits for every open one to settle (retries included). */
  stop(): Promise<void>;
  /** Operations settled so far (a quick figure for progress lines). */
  settled(): number;
  /** When the first client found every seat seen sold and stopped (epoch ms), or null. */
  soldOutAt(): number | null;
  /**
   * Holds `seats` through instance `instance` (first try) as buyer `authorization`, and walks away:
   * a hold that instance made, which must expire on time even if the instance dies.
   */
  plantHold(instance: number, seats: string[], authorization: string): Promise<Outcome>;
}

interface Worker {
  index: number;
  authorization: string;
  next: number;
}

/** How often the open loop starts the sessions that have come due. */
const ARRIVAL_TICK_MS = 5;

/**
 * Sockets per instance in the open loop. Sessions past this many in flight wait in the client, and
 * that wait counts in their time (the history's invoke is taken before it), as a buyer's would.
 */
const OPEN_LOOP_CONNECTIONS = 256;

/**
 * Starts the load over the instances' URLs: `settings.workers` buyers, each with its own token, whose
 * sessions mix single-seat purchases, multi-seat purchases, and holds followed by a checkout, a
 * release, or nothing (the hold expires). In the open loop (`rate` > 0) sessions start on a fixed
 * schedule, as buyers arrive at a sale whether or not it is slow, so the answer rate of a healthy
 * service is the offered rate, whatever the mix of cheap refusals and costly sales; the closed loop's
 * rate is whatever the service manages, and moves with that mix. Every request carries an
 * idempotency key (a release needs none); a request with no typed answer is retried with the same
 * key on the next instance until it gets one or `retryForMs` passes.
 */
export function startLoad(
  urls: readonly string[],
  authorizations: readonly string[],
  picker: SeatPicker,
  settings: LoadSettings,
  history: History,
  tag: string,
): Load {
  const pools = urls.map((url) => {
    assertLoopback(url);
    return new Pool(new URL(url).origin, {
      connections: settings.rate > 0 ? OPEN_LOOP_CONNECTIONS : settings.workers,
      keepAliveTimeout: 60_000,
    });
  });
  let running = true;
  let ops = 0;
  let settledOps = 0;
  let soldOutAt: number | null = null;

  /** One operation: attempts until a typed answer (or the retry budget is spent). Returns its outcome. */
  const operate = async (worker: Worker, kind: OpKind, seats: string[], holdId?: string): Promise<Outcome> => {
    const op = ops++;
    const key = kind === 'release' ? null : `drill-${tag}-${op}`;
    const body = bodyOf(kind, seats, key, holdId);
    const giveUpAt = Date.now() + settings.retryForMs;
    let outcome: Outcome = { type: 'unknown', error: 'not sent' };
    for (let attempt = 1; ; attempt++) {
      const instance = worker.next++ % pools.length;
      const invoke = Date.now();
      const answer = await send(pools[instance] as Pool, worker.authorization, body, settings.timeoutMs);
      outcome = answer.outcome;
      const line: Attempt = {
        op,
        worker: worker.index,
        kind,
        key,
        seats,
        attempt,
        instance,
        invoke,
        complete: Date.now(),
        outcome,
      };
      if (holdId) line.holdId = holdId;
      history.record(line);
      for (const seat of answer.soldSeats) picker.markSold(seat);
      for (const seat of answer.heldSeats) picker.markHeld(seat);
      if (kind === 'purchase' && outcome.type === 'refused' && outcome.reason === 'SOLD')
        picker.markSold(seats[0] ?? '');
      if (kind === 'purchase' && outcome.type === 'refused' && outcome.reason === 'HELD')
        picker.markHeld(seats[0] ?? '');
      if (outcome.type !== 'unknown' || Date.now() >= giveUpAt) break;
      await sleep(Math.min(500, 50 * attempt));
    }
    settledOps++;
    return outcome;
  };

  const holdThenDecide = async (worker: Worker, seats: string[]): Promise<void> => {
    const held = await operate(worker, 'hold', seats);
    if (held.type !== 'ok' || !held.holdId) return;
    const roll = Math.random();
    if (roll >= 0.85) return; // walks away: the hold expires
    await sleep(settings.thinkMs);
    if (roll < 0.65) {
      const paid = await operate(worker, 'checkout', held.seats ?? seats, held.holdId);
      if (paid.type === 'ok') for (const seat of paid.seats ?? []) picker.markSold(seat);
    } else await operate(worker, 'release', held.seats ?? seats, held.holdId);
  };

  /** One session; false when every seat is seen sold. */
  const session = async (worker: Worker): Promise<boolean> => {
    const roll = Math.random();
    const count = roll < 0.4 ? 1 : 2 + Math.floor(Math.random() * 3);
    const seats = picker.pick(count);
    if (!seats) {
      soldOutAt ??= Date.now();
      return false;
    }
    if (roll < 0.4) {
      const bought = await operate(worker, 'purchase', seats);
      if (bought.type === 'ok') picker.markSold(seats[0] ?? '');
    } else if (roll < 0.7) {
      const bought = await operate(worker, 'purchase-many', seats);
      if (bought.type === 'ok') for (const seat of seats) picker.markSold(seat);
    } else await holdThenDecide(worker, seats);
    return true;
  };

  const buyer = (index: number, next: number): Worker => ({
    index,
    authorization: authorizations[index % authorizations.length] ?? '',
    next,
  });
  const drain = settings.rate > 0 ? openLoop(settings.rate, settings.workers) : closedLoop(settings.workers);

  function closedLoop(workers: number): () => Promise<void> {
    const loops = Array.from({ length: workers }, async (_, index) => {
      const worker = buyer(index, index);
      while (running && (await session(worker)));
    });
    return async () => {
      await Promise.all(loops);
    };
  }

  function openLoop(rate: number, buyers: number): () => Promise<void> {
    const open = new Set<Promise<unknown>>();
    const startedAt = Date.now();
    let started = 0;
    const timer = setInterval(() => {
      const due = Math.floor(((Date.now() - startedAt) * rate) / 1000);
      for (; started < due && running && soldOutAt === null; started++) {
        const run: Promise<unknown> = session(buyer(started % buyers, started)).finally(() => open.delete(run));
        open.add(run);
      }
    }, ARRIVAL_TICK_MS);
    return async () => {
      clearInterval(timer);
      while (open.size > 0) await Promise.all(open);
    };
  }

  return {
    history,
    settled: () => settledOps,
    soldOutAt: () => soldOutAt,
    plantHold: (instance, seats, authorization) => operate({ index: -1, authorization, next: instance }, 'hold', seats),
    async stop() {
      running = false;
      await drain();
      await Promise.all(pools.map((pool) => pool.close()));
    },
  };
}
