import type { Attempt } from './history.js';
import { type QuietRecovery, quietPoints, quietSummary } from './timeline.js';

/** What the history says about one fault's latency, beside the throughput figures. */
export interface LatencyRecovery {
  /** p90 latency (invocation to completion) of the attempts invoked in the 2 s before the fault (ms). */
  p90Before: number | null;
  /**
   * From the fault's end to the start of the first 500-ms window of invocations whose p90 latency is
   * back within {@link latencyBound} of `p90Before` (ms, a multiple of 100); null if none was in the run.
   */
  backMs: number | null;
}

/**
 * How near the p90 before a fault a window's p90 must come to count as recovered: twice it, or 50 ms
 * above it when that is more (a 6 ms p90 doubling to 12 ms is no fault's doing).
 */
export const latencyBound = (p90Before: number) => Math.max(2 * p90Before, p90Before + 50);

const WINDOW_MS = 500;
const STEP_MS = 100;

/**
 * Attempts by invocation time. Throughput recovery alone flatters an open loop: a long fault's
 * backlog is answered in a burst when it ends, and that burst reads as recovered while a buyer who
 * arrives then still waits seconds. Latency by invocation measures what a newcomer gets.
 */
export class LatencyTimeline {
  private readonly byInvoke: Attempt[];

  constructor(attempts: readonly Attempt[]) {
    this.byInvoke = [...attempts].sort((a, b) => a.invoke - b.invoke);
  }

  /** The p90 latency of the attempts invoked in [from, to), or null when none was. */
  p90(from: number, to: number): number | null {
    const latencies: number[] = [];
    for (let i = this.firstAtOrAfter(from); i < this.byInvoke.length; i++) {
      const attempt = this.byInvoke[i] as Attempt;
      if (attempt.invoke >= to) break;
      latencies.push(attempt.complete - attempt.invoke);
    }
    if (latencies.length === 0) return null;
    latencies.sort((a, b) => a - b);
    return latencies[Math.min(latencies.length - 1, Math.floor(0.9 * latencies.length))] ?? null;
  }

  /** The fault's latency figures; windows start no later than `until` (epoch ms, the load's stop). */
  recovery(fault: { start: number; end: number }, until: number): LatencyRecovery {
    const p90Before = this.p90(fault.start - 2000, fault.start);
    if (p90Before === null) return { p90Before, backMs: null };
    for (let at = fault.end; at + WINDOW_MS <= until; at += STEP_MS) {
      const p90 = this.p90(at, at + WINDOW_MS);
      if (p90 !== null && p90 <= latencyBound(p90Before)) return { p90Before, backMs: at - fault.end };
    }
    return { p90Before, backMs: null };
  }

  /** {@link recovery}'s `backMs` at the drill's quiet points: the noise floor of that measure. */
  quiet(
    origin: number,
    faults: ReadonlyArray<{ start: number; end: number }>,
    until: number,
    fromMs: number,
  ): QuietRecovery {
    return quietSummary(
      quietPoints(origin, faults, until, fromMs).map((at) => this.recovery({ start: at, end: at }, until).backMs),
    );
  }

  private firstAtOrAfter(at: number): number {
    let low = 0;
    let high = this.byInvoke.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((this.byInvoke[mid] as Attempt).invoke < at) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
