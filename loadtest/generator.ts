import { performance } from 'node:perf_hooks';
import type { Clients } from './http-client.js';
import { sendPurchase } from './http-client.js';
import { type LatencyByOutcome, LatencyRecorder, type LatencySummary, OutcomeLatency } from './latency.js';
import type { LoadShape } from './options.js';
import { sleep } from './services.js';
import type { Outcome, Target } from './targets.js';

/** One second of the run, as the progress line printed it. */
export interface Tick {
  second: number;
  attempts: number;
  wins: number;
  rejects: number;
  errors: number;
  inFlight: number;
}

/** What the generator measured. */
export interface LoadResult {
  shape: LoadShape;
  /** From the first send to the last answer. */
  elapsedMs: number;
  sent: number;
  completed: number;
  wins: number;
  rejects: Record<string, number>;
  errors: Record<string, number>;
  /** Open loop: arrivals not sent because `maxInFlight` requests were already waiting. */
  dropped: number;
  /**
   * Latency to the end of each answer, in ms, two ways. `fromSchedule` starts when the open-loop
   * schedule meant the request to leave, so a generator that falls behind cannot hide the queue it
   * failed to offer (coordinated omission); `fromSend` starts when the request was handed to the HTTP
   * client (which still includes waiting for a free connection). A closed loop has no schedule (a
   * client sends when answered), so there the two are the same.
   */
  latency: { fromSchedule: LatencyByOutcome; fromSend: LatencyByOutcome };
  /** Open loop: how late each request was handed to the client against its schedule. Closed loop: no samples. */
  sendLag: LatencySummary;
  /** When the first and last wins were answered, ms after the start. */
  firstWinMs: number | null;
  lastWinMs: number | null;
  /** The generator's own CPU over the run, in percent of one core, and its event-loop utilisation. */
  generator: { cpuPercent: number; userMs: number; systemMs: number; eventLoopUtilization: number };
  timeline: Tick[];
  /** Latency from schedule by percentile, as the chart draws it. */
  curves: { wins: Array<[number, number]>; rejects: Array<[number, number]> };
}

const noop = () => {};

/** What to drive and how. */
export interface LoadPlan {
  clients: Clients;
  target: Target;
  authorizations: readonly string[];
  shape: LoadShape;
  durationMs: number;
  maxInFlight: number;
  onTick?: (tick: Tick, result: Pick<LoadResult, 'wins' | 'rejects' | 'errors'>) => void;
}

/** Drives the plan to its end (duration over, or target exhausted) and returns the measurements. */
export async function runLoad(plan: LoadPlan): Promise<LoadResult> {
  const { clients, target, authorizations } = plan;
  const fromSchedule = new OutcomeLatency();
  const fromSend = new OutcomeLatency();
  const lag = new LatencyRecorder();
  const rejects: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const timeline: Tick[] = [];
  let sent = 0;
  let completed = 0;
  let wins = 0;
  let inFlight = 0;
  let dropped = 0;
  let firstWinMs: number | null = null;
  let lastWinMs: number | null = null;
  let lastAnswerAt = 0;
  const window = { attempts: 0, wins: 0, rejects: 0, errors: 0 };

  const cpuBefore = process.cpuUsage();
  const eluBefore = performance.eventLoopUtilization();
  const t0 = performance.now();

  const settle = (index: number, authorization: string, scheduledAt: number, sentAt: number, outcome: Outcome) => {
    const now = performance.now();
    inFlight--;
    completed++;
    lastAnswerAt = now;
    window.attempts++;
    fromSchedule.record(outcome.kind, now - scheduledAt);
    fromSend.record(outcome.kind, now - sentAt);
    target.observe(index, outcome, authorization);
    if (outcome.kind === 'win') {
      wins++;
      window.wins++;
      firstWinMs ??= now - t0;
      lastWinMs = now - t0;
    } else if (outcome.kind === 'reject') {
      rejects[outcome.reason] = (rejects[outcome.reason] ?? 0) + 1;
      window.rejects++;
    } else {
      errors[outcome.error] = (errors[outcome.error] ?? 0) + 1;
      window.errors++;
    }
  };

  /** Hands one purchase to the client; `scheduledAt` is when the open loop meant it to leave. */
  const send = (index: number, scheduledAt?: number): Promise<void> => {
    const authorization = authorizations[sent % authorizations.length] ?? '';
    const pool = clients.pools[sent % clients.pools.length];
    const body = target.bodies[index] ?? '';
    sent++;
    inFlight++;
    const sentAt = performance.now();
    if (scheduledAt !== undefined) lag.record(sentAt - scheduledAt);
    const due = scheduledAt ?? sentAt;
    if (!pool) return Promise.resolve(settle(index, authorization, due, sentAt, { kind: 'error', error: 'no pool' }));
    return sendPurchase(pool, authorization, body).then((outcome) =>
      settle(index, authorization, due, sentAt, outcome),
    );
  };

  const progress = setInterval(() => {
    const tick: Tick = { second: timeline.length + 1, ...window, inFlight };
    timeline.push(tick);
    Object.assign(window, { attempts: 0, wins: 0, rejects: 0, errors: 0 });
    plan.onTick?.(tick, { wins, rejects, errors });
  }, 1000);

  try {
    if (plan.shape.kind === 'open') {
      const intervalMs = 1000 / plan.shape.rate;
      const total = Math.round((plan.shape.rate * plan.durationMs) / 1000);
      let scheduled = 0;
      while (scheduled < total) {
        const now = performance.now();
        const due = Math.min(total, Math.floor((now - t0) / intervalMs) + 1);
        let exhausted = false;
        for (; scheduled < due; scheduled++) {
          if (inFlight >= plan.maxInFlight) {
            dropped++;
            continue;
          }
          const index = target.next();
          if (index < 0) {
            exhausted = true;
            break;
          }
          send(index, t0 + scheduled * intervalMs).then(noop, (error: unknown) => {
            errors[String(error)] = (errors[String(error)] ?? 0) + 1;
          });
        }
        if (exhausted) break;
        await sleep(1);
      }
      // Bounded drain: undici times every request out at 30 s anyway.
      const drainDeadline = performance.now() + 35_000;
      while (inFlight > 0 && performance.now() < drainDeadline) await sleep(5);
    } else {
      const deadline = t0 + plan.durationMs;
      const client = async () => {
        while (performance.now() < deadline) {
          const index = target.next();
          if (index < 0) return;
          await send(index);
        }
      };
      await Promise.all(Array.from({ length: plan.shape.connections }, client));
    }
  } finally {
    clearInterval(progress);
  }

  // Requests still unanswered after the bounded drain are errors; later answers must not change the result.
  if (inFlight > 0) errors['unanswered at end'] = inFlight;
  const elapsedMs = Math.max(1, (lastAnswerAt || performance.now()) - t0);
  const cpu = process.cpuUsage(cpuBefore);
  const elu = performance.eventLoopUtilization(eluBefore);
  return {
    shape: plan.shape,
    elapsedMs: Math.round(elapsedMs),
    sent,
    completed,
    wins,
    rejects: { ...rejects },
    errors: { ...errors },
    dropped,
    latency: { fromSchedule: fromSchedule.summary(), fromSend: fromSend.summary() },
    sendLag: lag.summary(),
    firstWinMs: firstWinMs === null ? null : Math.round(firstWinMs),
    lastWinMs: lastWinMs === null ? null : Math.round(lastWinMs),
    generator: {
      cpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / elapsedMs) * 1000) / 10,
      userMs: Math.round(cpu.user / 1000),
      systemMs: Math.round(cpu.system / 1000),
      eventLoopUtilization: Math.round(elu.utilization * 1000) / 1000,
    },
    timeline,
    curves: { wins: fromSchedule.wins.curve(), rejects: fromSchedule.rejects.curve() },
  };
}
