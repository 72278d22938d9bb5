import { availabilityOf, BIN_MS, type Bin } from './timeline.js';

const WIDTH = 920;
const TOP = { y: 30, h: 220 };
const LOW = { y: 290, h: 90 };
const LEFT = 56;
const RIGHT = 12;
const SERIES = [
  { name: 'successes', key: 'ok', color: '#16a34a' },
  { name: 'refusals', key: 'refused', color: '#2563eb' },
  { name: 'unknown (timeout, lost connection, error)', key: 'unknown', color: '#dc2626' },
] as const;

const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/**
 * An SVG timeline of a drill: successes, refusals and unknown outcomes per 100 ms (top), the share
 * answered per 100 ms (bottom), each fault's window shaded and named. `faults` are ms from the bins' origin.
 */
export function timelineChart(
  title: string,
  bins: readonly Bin[],
  faults: ReadonlyArray<{ name: string; start: number; end: number }>,
): string {
  const span = Math.max(BIN_MS, bins.length * BIN_MS);
  const plotW = WIDTH - LEFT - RIGHT;
  const x = (ms: number) => LEFT + (ms / span) * plotW;
  const peak = Math.max(1, ...bins.flatMap((b) => [b.ok, b.refused, b.unknown]));
  const yTop = (n: number) => TOP.y + TOP.h - (n / peak) * TOP.h;
  const yLow = (share: number) => LOW.y + LOW.h - share * LOW.h;
  const out: string[] = [`<text x="${LEFT}" y="18" font-weight="bold">${esc(title)}</text>`];
  for (const fault of faults) {
    const x0 = x(fault.start);
    const w = Math.max(2, x(fault.end) - x0);
    out.push(
      `<rect x="${x0.toFixed(1)}" y="${TOP.y}" width="${w.toFixed(1)}" height="${LOW.y + LOW.h - TOP.y}" fill="#fde68a" opacity="0.6"/>`,
    );
    out.push(`<text x="${(x0 + 2).toFixed(1)}" y="${TOP.y + 12}" fill="#92400e">${esc(fault.name)}</text>`);
  }
  for (let s = 0; s <= span / 1000; s += span > 30_000 ? 5 : 1) {
    const at = x(s * 1000);
    out.push(`<line x1="${at}" y1="${TOP.y}" x2="${at}" y2="${LOW.y + LOW.h}" stroke="#e5e7eb"/>`);
    out.push(`<text x="${at}" y="${LOW.y + LOW.h + 14}" text-anchor="middle">${s} s</text>`);
  }
  for (const [frac, label] of [
    [0, '0'],
    [0.5, String(Math.round(peak / 2))],
    [1, String(peak)],
  ] as const) {
    out.push(`<text x="${LEFT - 6}" y="${yTop(frac * peak) + 4}" text-anchor="end">${label}</text>`);
  }
  out.push(`<text x="${LEFT - 6}" y="${yLow(1) + 4}" text-anchor="end">100%</text>`);
  out.push(`<text x="${LEFT - 6}" y="${yLow(0) + 4}" text-anchor="end">0%</text>`);
  out.push(`<text x="${LEFT}" y="${TOP.y - 4}" fill="#374151">completed per 100 ms</text>`);
  out.push(`<text x="${LEFT}" y="${LOW.y - 4}" fill="#374151">answered share per 100 ms (availability)</text>`);
  for (const series of SERIES) {
    const d = bins
      .map((b, i) => `${i ? 'L' : 'M'}${x(b.at + BIN_MS / 2).toFixed(1)},${yTop(b[series.key]).toFixed(1)}`)
      .join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${series.color}" stroke-width="1.5"/>`);
  }
  const shares = bins
    .map((b) => ({ at: b.at, share: availabilityOf(b) }))
    .filter((p): p is { at: number; share: number } => p.share !== null);
  const d = shares
    .map((p, i) => `${i ? 'L' : 'M'}${x(p.at + BIN_MS / 2).toFixed(1)},${yLow(p.share).toFixed(1)}`)
    .join(' ');
  out.push(`<path d="${d}" fill="none" stroke="#111827" stroke-width="1.5"/>`);
  const legend = SERIES.map(
    (s, i) =>
      `<rect x="${LEFT + i * 220}" y="${LOW.y + LOW.h + 26}" width="14" height="4" fill="${s.color}"/><text x="${LEFT + i * 220 + 20}" y="${LOW.y + LOW.h + 32}">${esc(s.name)}</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${LOW.y + LOW.h + 44}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
${out.join('\n')}
${legend.join('\n')}
</svg>
`;
}
