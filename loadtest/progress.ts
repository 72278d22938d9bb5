import type { Tick } from './generator.js';

/** One progress line: elapsed seconds, attempts/s, wins, rejects (by reason), errors, in flight. */
export function formatTick(
  label: string,
  tick: Tick,
  totals: { wins: number; rejects: Record<string, number>; errors: Record<string, number> },
): string {
  const rejects = Object.values(totals.rejects).reduce((a, b) => a + b, 0);
  const reasons = Object.entries(totals.rejects)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ');
  const errors = Object.values(totals.errors).reduce((a, b) => a + b, 0);
  return (
    `[${label.padEnd(14)} ${String(tick.second).padStart(3)}s] ${String(tick.attempts).padStart(5)} att/s` +
    ` | wins ${totals.wins} | rejects ${rejects}${reasons ? ` (${reasons})` : ''} | errors ${errors}` +
    ` | in flight ${tick.inFlight}`
  );
}
