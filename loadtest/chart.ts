import type { ContenderResult } from './contender-result.js';

const COLORS = ['#6b7280', '#dc2626', '#2563eb', '#16a34a', '#d97706', '#7c3aed'];
const WIDTH = 460;
const HEIGHT = 300;
const PAD = { left: 56, right: 12, top: 28, bottom: 40 };

const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** x position of percentile p on a "nines" axis: 0%, 90%, 99%, 99.9%, … evenly spaced. */
const ninesOf = (p: number) => -Math.log10(Math.max(1e-6, 1 - p / 100));

function panel(
  title: string,
  series: Array<{ name: string; color: string; curve: Array<[number, number]> }>,
  x0: number,
): string {
  const points = series.flatMap((s) => s.curve);
  if (points.length === 0)
    return `<text x="${x0 + WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle">${esc(title)}: no samples</text>`;
  const maxNines = Math.max(1, Math.ceil(Math.max(...points.map(([p]) => ninesOf(p)))));
  const msValues = points.map(([, ms]) => Math.max(0.1, ms));
  const lo = Math.floor(Math.log10(Math.min(...msValues)));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...msValues))));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const sx = (p: number) => x0 + PAD.left + (ninesOf(p) / maxNines) * plotW;
  const sy = (ms: number) => PAD.top + plotH - ((Math.log10(Math.max(0.1, ms)) - lo) / (hi - lo)) * plotH;
  const out: string[] = [`<text x="${x0 + PAD.left}" y="18" font-weight="bold">${esc(title)}</text>`];
  for (let n = 0; n <= maxNines; n++) {
    const x = x0 + PAD.left + (n / maxNines) * plotW;
    const label = n === 0 ? '0%' : `${(100 - 100 / 10 ** n).toFixed(Math.max(0, n - 2))}%`;
    out.push(`<line x1="${x}" y1="${PAD.top}" x2="${x}" y2="${PAD.top + plotH}" stroke="#e5e7eb"/>`);
    out.push(`<text x="${x}" y="${HEIGHT - 22}" text-anchor="middle">${label}</text>`);
  }
  for (let e = lo; e <= hi; e++) {
    const y = sy(10 ** e);
    out.push(`<line x1="${x0 + PAD.left}" y1="${y}" x2="${x0 + WIDTH - PAD.right}" y2="${y}" stroke="#e5e7eb"/>`);
    out.push(`<text x="${x0 + PAD.left - 6}" y="${y + 4}" text-anchor="end">${10 ** e} ms</text>`);
  }
  out.push(`<text x="${x0 + PAD.left + plotW / 2}" y="${HEIGHT - 6}" text-anchor="middle">percentile</text>`);
  for (const s of series) {
    if (s.curve.length === 0) continue;
    const d = s.curve.map(([p, ms], i) => `${i ? 'L' : 'M'}${sx(p).toFixed(1)},${sy(ms).toFixed(1)}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
  }
  return out.join('\n');
}

/** An SVG of latency from schedule by percentile, per contender: rejections on the left, wins on the right. */
export function latencyChart(title: string, results: ContenderResult[]): string {
  const series = results.map((r, i) => ({ name: r.contender, color: COLORS[i % COLORS.length] ?? '#000', r }));
  const legend = series
    .map((s, i) => {
      const x = 12 + i * 150;
      return `<rect x="${x}" y="${HEIGHT + 14}" width="14" height="4" fill="${s.color}"/><text x="${x + 20}" y="${HEIGHT + 20}">${esc(s.name)}</text>`;
    })
    .join('\n');
  const body = [
    panel(
      'Rejections',
      series.map((s) => ({ ...s, curve: s.r.load.curves.rejects })),
      0,
    ),
    panel(
      'Wins',
      series.map((s) => ({ ...s, curve: s.r.load.curves.wins })),
      WIDTH,
    ),
  ].join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH * 2}" height="${HEIGHT + 60}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
<text x="${WIDTH}" y="${HEIGHT + 48}" text-anchor="middle" fill="#374151">${esc(title)}</text>
${body}
${legend}
</svg>
`;
}
