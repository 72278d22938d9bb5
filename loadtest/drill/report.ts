import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { timelineChart } from './chart.js';
import type { Snapshot, Unknowns, Verdict } from './checker.js';
import type { ConvergenceCheck } from './convergence.js';
import type { Operation } from './history.js';
import type { LatencyRecovery } from './latency.js';
import type { Fault } from './nemesis.js';
import type { DrillOptions } from './options.js';
import type { Bin, FaultFigures, QuietRecovery } from './timeline.js';

/** Everything a drill measured and judged (the JSON report). */
export interface DrillReport {
  name: string;
  command: string;
  startedAt: string;
  options: DrillOptions;
  historyFile: string;
  /** From the load's start to its stop (ms). */
  durationMs: number;
  /** When the clients found the venue sold out and stopped (ms from the origin), or null: they never did. */
  soldOutMs: number | null;
  faults: Array<Fault & { figures: FaultFigures; latency: LatencyRecovery }>;
  /** The recovery measure where no fault was (its noise floor). */
  quiet: QuietRecovery;
  /** The latency recovery measure where no fault was. */
  quietLatency: QuietRecovery;
  /** Attempts by outcome. */
  attempts: { ok: number; refused: number; unknown: number };
  operations: number;
  unknowns: Unknowns;
  /** Unknown attempts by error. */
  unknownErrors: Record<string, number>;
  checks: ConvergenceCheck[];
  verdicts: Verdict[];
  passed: boolean;
  bins: Bin[];
  /** Epoch ms of the timeline's origin (the load's start). */
  origin: number;
}

/**
 * The holds a killed or paused instance made before its fault that expired afterwards: how many,
 * and the worst lag from expiry to EXPIRED (a sweeper on another instance must end them).
 */
export function killedHolds(ops: readonly Operation[], snapshot: Snapshot, faults: readonly Fault[]): string {
  const holds = new Map(snapshot.holds.map((h) => [h.id, h]));
  const parts: string[] = [];
  for (const fault of faults) {
    if (fault.instance === null) continue;
    let count = 0;
    let worst = 0;
    for (const op of ops) {
      if (op.kind !== 'hold') continue;
      const made = op.attempts.find((a) => a.outcome.type === 'ok');
      if (!made || made.instance !== fault.instance || made.complete > fault.start || made.outcome.type !== 'ok')
        continue;
      const hold = holds.get(made.outcome.holdId ?? '');
      if (hold?.status !== 'EXPIRED' || hold.endedAt === null || hold.expiresAt < fault.start) continue;
      count++;
      worst = Math.max(worst, hold.endedAt - hold.expiresAt);
    }
    parts.push(
      `${fault.nemesis}: ${count} holds made on instance ${fault.instance} before the fault expired after it, worst lag ${worst} ms`,
    );
  }
  return parts.join('; ');
}

/** The issue's timing target for a fault, and whether it was met. */
export function timingTarget(
  fault: Fault & { figures: FaultFigures },
  lockTtlMs: number,
): { target: string; met: boolean } | null {
  const limit = fault.nemesis === 'stop' ? lockTtlMs : fault.nemesis === 'kill' ? null : 2000;
  if (limit === null) return null;
  const recovery = fault.figures.recoveryMs;
  return { target: `recovery ≤ ${limit} ms`, met: recovery !== null && recovery <= limit };
}

/** A warning when the venue sold out under load: from then on, throughput measures no load at all. */
function soldOutLines(report: DrillReport): string[] {
  const soldOut = report.soldOutMs;
  if (soldOut === null) return [];
  const later = report.faults.filter((f) => f.end - report.origin + 2000 > soldOut).map((f) => f.nemesis);
  return [
    `WARNING: the venue sold out at ${(soldOut / 1000).toFixed(1)} s and the clients stopped; ${later.length ? `the recovery of ${later.join(', ')} measures an idle system` : 'every fault was over by then'}. Run with more --seats.`,
  ];
}

/** The recovery measures' readings where no fault was, to read the faults' figures against. */
function quietLine({ quiet, quietLatency }: DrillReport): string {
  if (quiet.points === 0) return 'Recovery where no fault was: no fault-free point to measure.';
  return `Recovery where no fault was (its noise floor), at ${quiet.points} points 500 ms apart: throughput median ${quiet.medianMs} ms, worst ${quiet.worstMs} ms; latency median ${quietLatency.medianMs ?? '—'} ms, worst ${quietLatency.worstMs ?? '—'} ms.`;
}

const pct = (share: number | null) => (share === null ? 'n/a' : `${Math.round(share * 1000) / 10} %`);

/** One row per fault: the drill table of the report, the README and the log. */
export function faultRows(report: DrillReport): string[] {
  const failed = report.verdicts.filter((v) => !v.pass).length;
  return report.faults.map((fault) => {
    const f = fault.figures;
    const target = timingTarget(fault, report.options.lockTtlMs);
    const { p90Before, backMs } = fault.latency;
    return `| ${fault.nemesis} | ${fault.end - fault.start} | ${f.before} | ${f.during ?? '—'} | ${pct(f.minAvailability)} / ${pct(f.meanAvailability)} | ${f.recoveryMs ?? 'not within the run'}${target ? ` (${target.met ? 'MET' : 'MISSED'}: ${target.target})` : ''} | ${p90Before ?? '—'} / ${backMs ?? 'not within the run'} | ${report.checks.find((c) => c.after === fault.nemesis)?.wrong.join(', ') ?? '?'} | ${failed === 0 ? '0 violations' : `${failed} rules FAIL`} |`;
  });
}

export const FAULT_HEADER = [
  '| nemesis | fault ms | answers/s before | answers/s during | availability min / mean (per 100 ms, fault + 2 s) | recovery to ≥ 90 % (ms after the fault) | p90 latency before (ms) / back within max(2×, +50 ms) (ms after the fault) | seats wrong per subscriber at end + resync + 1 s | checker |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
];

function markdown(report: DrillReport, svg: string): string {
  const u = report.unknowns;
  return [
    `# Fault drill ${report.name}`,
    '',
    `\`npm run loadtest -- ${report.command}\` · ${report.startedAt} · ${report.options.instances} instances, ${loadLabel(report.options)}, ${report.options.subscribers} subscribers, ${report.options.seats} seats (${report.options.hotSeats} contended), LOCK_TTL_MS ${report.options.lockTtlMs}, AVAILABILITY_RESYNC_MS ${report.options.resyncMs}, DATABASE_POOL_SIZE ${report.options.dbPool}, holds of ${report.options.holdSeconds} s`,
    '',
    `Verdict: **${report.passed ? 'PASS' : 'FAIL'}**. History: \`${basename(report.historyFile)}\` (one JSON line per attempt). Timeline: [${basename(svg)}](${basename(svg)}).`,
    '',
    ...FAULT_HEADER,
    ...faultRows(report),
    '',
    quietLine(report),
    '',
    `${report.operations} operations, ${report.attempts.ok + report.attempts.refused + report.attempts.unknown} attempts: ${report.attempts.ok} successes, ${report.attempts.refused} refusals, ${report.attempts.unknown} unknown (${
      Object.entries(report.unknownErrors)
        .map(([e, n]) => `${e} ${n}`)
        .join(', ') || 'none'
    }).`,
    ...soldOutLines(report),
    `Unknown outcomes: ${u.met} operations met one; a retry with the same key resolved ${u.resolved}, ${u.stayed} stayed unknown (${u.stayedAndMade} of which made an order or hold, as the database shows).`,
    '',
    '| rule | verdict | detail |',
    '| --- | --- | --- |',
    ...report.verdicts.map(
      (v) =>
        `| ${v.rule} | ${v.pass ? 'PASS' : `FAIL (${v.violations})`} | ${v.detail.replace(/\|/g, '/')}${v.examples.length ? `<br>${v.examples.join('<br>')}` : ''} |`,
    ),
    '',
    ...report.faults.map((f) => `- ${f.nemesis} at ${((f.start - report.origin) / 1000).toFixed(1)} s: ${f.detail}`),
    '',
  ].join('\n');
}

/** Adds the drill's rows to LOG.md's drill section of today (made at the top when missing). */
async function logRow(logPath: string, report: DrillReport, mdFile: string, svgFile: string): Promise<void> {
  const log = await readFile(logPath, 'utf8');
  const day = report.startedAt.slice(0, 10);
  const heading = `## ${day}: fault drills`;
  const rows = faultRows(report).map(
    (row) => `| ${report.startedAt.slice(11, 16)} \`${report.command}\` ([md](${mdFile}), [chart](${svgFile})) ${row}`,
  );
  const firstSection = log.indexOf('\n## ');
  const top = log.slice(firstSection + 1, log.indexOf('\n', firstSection + 1));
  let next: string;
  if (top === heading) {
    const tableStart = log.indexOf('| --- |', firstSection);
    const after = log.indexOf('\n', tableStart) + 1;
    next = `${log.slice(0, after)}${rows.join('\n')}\n${log.slice(after)}`;
  } else {
    const section = [
      heading,
      '',
      'Each row is one fault of a `drill` run (newest first), on this host while other work shared its 2 cores. Targets: 0 checker violations; recovery ≤ 2 s after redis-restart, redis-flush and pg-terminate, within the lock TTL after stop.',
      '',
      `| run | ${FAULT_HEADER[0]?.slice(2)}`,
      `| --- ${FAULT_HEADER[1]}`,
      ...rows,
      '',
    ].join('\n');
    next = `${log.slice(0, firstSection + 1)}${section}\n${log.slice(firstSection + 1)}`;
  }
  await writeFile(logPath, next);
}

/** Writes `<name>.json`, `.md` and `.svg` (the history is already beside them), and a row in LOG.md if the folder has one. */
export async function writeDrillReport(outDir: string, report: DrillReport): Promise<string[]> {
  const base = join(outDir, report.name);
  const svg = timelineChart(
    `${report.name}: ${report.passed ? 'PASS' : 'FAIL'}`,
    report.bins,
    report.faults.map((f) => ({ name: f.nemesis, start: f.start - report.origin, end: f.end - report.origin })),
  );
  await writeFile(`${base}.json`, `${JSON.stringify(report, null, 1)}\n`);
  await writeFile(`${base}.svg`, svg);
  await writeFile(`${base}.md`, markdown(report, `${base}.svg`));
  const files = [`${base}.json`, `${base}.md`, `${base}.svg`, report.historyFile];
  const logPath = join(outDir, 'LOG.md');
  if (existsSync(logPath)) {
    await logRow(logPath, report, `${report.name}.md`, `${report.name}.svg`);
    files.push(logPath);
  }
  return files;
}

/** What the console prints at the end. */
export function drillSummary(report: DrillReport): string[] {
  return [
    '',
    ...FAULT_HEADER,
    ...faultRows(report),
    quietLine(report),
    '',
    ...soldOutLines(report),
    `unknown outcomes: ${report.unknowns.met} operations; resolved by a retry ${report.unknowns.resolved}, stayed unknown ${report.unknowns.stayed} (${report.unknowns.stayedAndMade} made an order or hold)`,
    ...report.verdicts.map(
      (v) =>
        `${v.pass ? 'PASS' : 'FAIL'} ${v.rule}: ${v.detail}${v.examples.length ? `\n    ${v.examples.join('\n    ')}` : ''}`,
    ),
    '',
    `drill: ${report.passed ? 'PASS' : 'FAIL'}`,
  ];
}

/** How the load was offered, for the report's header. */
export function loadLabel(options: { rate: number; workers: number }): string {
  return options.rate > 0
    ? `open loop at ${options.rate} sessions/s over ${options.workers} buyers`
    : `${options.workers} closed-loop clients`;
}
