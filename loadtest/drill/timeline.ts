import type { Attempt } from './history.js';

/** The width of one bin of the timeline. */
export const BIN_MS = 100;

/** Attempts completed in one 100-ms bin, by outcome. */
export interface Bin {
  /** Start of the bin, ms from the timeline's origin. */
  at: number;
  ok: number;
  refused: number;
  unknown: number;
}

/** The attempts binned by completion time, from `origin` (epoch ms) to `until`. */
export function binsOf(attempts: readonly Attempt[], origin: number, until: number): Bin[] {
  const bins: Bin[] = Array.from({ length: Math.max(1, Math.ceil((until - origin) / BIN_MS)) }, (_, i) => ({
    at: i * BIN_MS,
    ok: 0,
    refused: 0,
    unknown: 0,
  }));
  for (const attempt of attempts) {
    const bin = bins[Math.floor((attempt.complete - origin) / BIN_MS)];
    if (bin) bin[attempt.outcome.type]++;
  }
  return bins;
}

/** Typed answers (successes and refusals) in a bin: the drill's throughput. */
export const answered = (bin: Bin) => bin.ok + bin.refused;
/** The share of a bin's completed attempts that got a typed answer (null: none completed). */
export const availabilityOf = (bin: Bin) => {
  const all = answered(bin) + bin.unknown;
  return all === 0 ? null : answered(bin) / all;
};

/** What the timeline says about one fault. */
export interface FaultFigures {
  /** Typed answers per second over the 2 s before the fault. */
  before: number;
  /** Per 100-ms bin from the fault's start to 2 s after its end: the share answered (null: nothing completed). */
  availability: Array<number | null>;
  /** The lowest of those, and the mean of the answered share over the window (answered / completed). */
  minAvailability: number | null;
  meanAvailability: number | null;
  /** Typed answers per second while the fault lasted (null for an instant fault). */
  during: number | null;
  /**
   * From the fault's end to the start of the first 500-ms window whose throughput is ≥ 90 % of
   * `before` (ms, a multiple of 100); null if it never got back within the timeline.
   */
  recoveryMs: number | null;
}

const perSecond = (bins: readonly Bin[]) =>
  bins.length === 0 ? 0 : (bins.reduce((sum, bin) => sum + answered(bin), 0) * 1000) / (bins.length * BIN_MS);

/** The fault's figures from the bins (origin: the bins' epoch ms origin). */
export function faultFigures(
  bins: readonly Bin[],
  origin: number,
  fault: { start: number; end: number },
): FaultFigures {
  const startBin = Math.floor((fault.start - origin) / BIN_MS);
  const endBin = Math.ceil((fault.end - origin) / BIN_MS);
  const before = perSecond(bins.slice(Math.max(0, startBin - 20), startBin));
  const window = bins.slice(startBin, endBin + 20);
  const availability = window.map(availabilityOf);
  const shares = availability.filter((a): a is number => a !== null);
  const done = window.reduce((sum, bin) => sum + answered(bin) + bin.unknown, 0);
  let recoveryMs: number | null = null;
  for (let i = endBin; i + 5 <= bins.length; i++) {
    if (perSecond(bins.slice(i, i + 5)) >= 0.9 * before) {
      recoveryMs = Math.max(0, (i - endBin) * BIN_MS);
      break;
    }
  }
  return {
    before: Math.round(before),
    availability,
    minAvailability: shares.length ? Math.min(...shares) : null,
    meanAvailability: done ? window.reduce((sum, bin) => sum + answered(bin), 0) / done : null,
    during: endBin - startBin >= 2 ? Math.round(perSecond(bins.slice(startBin, endBin))) : null,
    recoveryMs,
  };
}

/** The recovery measure taken where no fault was: how far from 0 the load's own noise puts it. */
export interface QuietRecovery {
  /** Fault-free points measured. */
  points: number;
  medianMs: number | null;
  worstMs: number | null;
}

/** Quiet points skip this much before each fault: their 500-ms windows after the point stay clear of it. */
const QUIET_BEFORE_FAULT_MS = 2500;
/**
 * And this much after each fault's end, plus the fault's own length, so that a point's 2 s "before"
 * window starts 4 s after the fault's backlog is worked off. In the open loop a fault of length d leaves
 * about d × the offered rate of sessions waiting, answered in a burst when it ends at roughly the spare
 * rate (about the offered rate again at the default); a "before" taken over that burst is no steady
 * level. With 6 s flat, points 6-7 s after a 6 s SIGSTOP read 3.6-4.7 s (before: 571-849 answers/s
 * against 410).
 */
const QUIET_AFTER_FAULT_MS = 4000 + 2000;

/**
 * Instants with no fault (epoch ms), where a recovery measure should read 0: every 500 ms from
 * `fromMs` after the origin (at least 2.5 s, so each has 2 s of load before it; the drill passes its
 * warm-up + 2 s, as the open loop's start-up backlog is no steady load either) to 3 s before `until`,
 * skipping the points near a fault (see above).
 */
export function quietPoints(
  origin: number,
  faults: ReadonlyArray<{ start: number; end: number }>,
  until: number,
  fromMs = 2500,
): number[] {
  const points: number[] = [];
  for (let at = origin + Math.max(2500, fromMs); at < until - 3000; at += 500)
    if (
      !faults.some((f) => at > f.start - QUIET_BEFORE_FAULT_MS && at < f.end + (f.end - f.start) + QUIET_AFTER_FAULT_MS)
    )
      points.push(at);
  return points;
}

/** The median and worst of readings taken at quiet points (null ones are not counted). */
export function quietSummary(readings: ReadonlyArray<number | null>): QuietRecovery {
  const sorted = readings.filter((r): r is number => r !== null).sort((a, b) => a - b);
  return {
    points: sorted.length,
    medianMs: sorted.length ? (sorted[sorted.length >> 1] ?? null) : null,
    worstMs: sorted.at(-1) ?? null,
  };
}

/**
 * {@link faultFigures}' recovery time at the {@link quietPoints}. A steady load reads 0 there; what it
 * reads instead is the noise a fault's figure stands on.
 */
export function quietRecovery(
  bins: readonly Bin[],
  origin: number,
  faults: ReadonlyArray<{ start: number; end: number }>,
  until: number,
  fromMs = 2500,
): QuietRecovery {
  return quietSummary(
    quietPoints(origin, faults, until, fromMs).map(
      (at) => faultFigures(bins, origin, { start: at, end: at }).recoveryMs,
    ),
  );
}
