import { sleep } from '../services.js';
import { readSeatStates } from './snapshot.js';
import { differences, explainWrong, type LiveSeatMap, type SeatState } from './subscribers.js';

/** One seat-map check: how many seats each subscriber had wrong, and when. */
export interface ConvergenceCheck {
  /** The fault it follows, or `final` (after the load, once every hold has expired). */
  after: string;
  /** Epoch ms of the check, and how long after the fault's end. */
  at: number;
  sinceFaultEndMs: number;
  /** Seats each subscriber had older than the database had them committed a second before the check. */
  wrong: number[];
  /** For each subscriber with seats wrong, why (see explainWrong). */
  notes?: string[];
  /**
   * Per subscriber, when it last finished loading its map again after losing its socket in this
   * fault: ms after the fault's end (negative: before it ended); null if it never had to.
   */
  reloadedMs?: Array<number | null>;
  /** Per subscriber, its connection steps since the fault's start (see connectionSteps). */
  steps?: string[][];
  /** Per instance, the blocks of seats its live copy had read again by then (a lost message repaired). */
  resyncBlocks?: Array<number | null>;
}

/** An instance's `flux_live_resync_blocks_read`, or null if it does not answer. */
export async function resyncBlocksRead(url: string): Promise<number | null> {
  try {
    const response = await fetch(new URL('/metrics', url), { signal: AbortSignal.timeout(2000) });
    const found = /^flux_live_resync_blocks_read\S* (\d+)/m.exec(await response.text());
    return found ? Number(found[1]) : null;
  } catch {
    return null;
  }
}

/**
 * Compares every subscriber's map with `truth` (the tickets as the database had them at some moment)
 * and explains each wrong map relative to `from` (a fault's end), with its connection steps since
 * `after` (the fault's start).
 */
export function checkMaps(
  truth: ReadonlyMap<string, SeatState & { changedAt: number }>,
  maps: readonly LiveSeatMap[],
  times: { from: number; after: number },
): { wrong: number[]; notes: string[] } {
  const wrong = maps.map((map) => differences(map.seats, truth));
  const notes = wrong.flatMap((ids, i) =>
    ids.length === 0
      ? []
      : [
          `subscriber ${i} (${maps[i]?.url}): ${explainWrong(maps[i] as LiveSeatMap, truth, ids, times.from, times.after)}`,
        ],
  );
  return { wrong: wrong.map((ids) => ids.length), notes };
}

/** After the load: polls until every map equals the database, at most `withinMs`. */
export async function finalConvergence(url: string, eventId: string, maps: readonly LiveSeatMap[], withinMs: number) {
  const from = Date.now();
  let checked = checkMaps(await readSeatStates(url, eventId), maps, { from, after: from });
  while (checked.wrong.some((n) => n > 0) && Date.now() - from < withinMs) {
    await sleep(100);
    checked = checkMaps(await readSeatStates(url, eventId), maps, { from, after: from });
  }
  return { ...checked, tookMs: Date.now() - from };
}
