import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { latencyChart } from './chart.js';
import type { ContenderResult } from './contender-result.js';
import type { GoalVerdict } from './goals.js';
import type { LatencySummary } from './latency.js';
import { type Machine, machineLine } from './machine.js';
import type { LoadOptions } from './options.js';
import type { SalePlan } from './scenarios/scenario.js';

/** Everything one invocation found, as written to `<name>.json`. */
export interface Report {
  name: string;
  command: string;
  startedAt: string;
  machine: Machine;
  options: LoadOptions;
  results: ContenderResult[];
  goals: GoalVerdict[];
  passed: boolean;
}

/** What rendering a report needs beyond its data: the scenario's own lines. */
type Scenario = Pick<SalePlan, 'label' | 'reportLines' | 'consoleLines'>;

const lat = (s: LatencySummary) => (s.count === 0 ? '–' : `${s.p50} / ${s.p95} / ${s.p99} / ${s.max}`);
const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
const byReason = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort(([, a], [, b]) => b - a)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || '0';

function shapeText(options: LoadOptions, scenario: Scenario): string {
  const shape =
    options.shape.kind === 'open'
      ? `open loop ${options.shape.rate}/s`
      : `closed loop ${options.shape.connections} connections`;
  return `${scenario.label}, ${shape}, ${options.durationMs / 1000} s, ${options.instances} instance(s)`;
}

/** Each contender's latency both ways (generator.ts), and how late the open loop's sends left. */
function latencyRows(report: Report): string[] {
  const closed = report.options.shape.kind === 'closed';
  return [
    '',
    '| strategy | rejection p50 / p95 / p99 / max from schedule (ms) | from actual send | win p50 / p95 / p99 / max from schedule (ms) | from actual send | generator lag p50 / p99 / max (ms) |',
    '| --- | --- | --- | --- | --- | --- |',
    ...report.results.map((r) => {
      const { fromSchedule, fromSend } = r.load.latency;
      return `| ${r.contender} | ${lat(fromSchedule.rejects)} | ${lat(fromSend.rejects)} | ${lat(fromSchedule.wins)} | ${lat(fromSend.wins)} | ${lagText(r.load.sendLag)} |`;
    }),
    '',
    closed
      ? '- Closed loop: a client sends when its previous answer arrives, so there is no schedule to fall behind; both latencies are measured from the send.'
      : '- Latency from schedule starts when the open loop meant the request to leave; from actual send, when it was handed to the HTTP client. The gap is the generator lag: a generator that falls behind would otherwise hide the queue it failed to offer.',
  ];
}

const lagText = (s: LatencySummary) => (s.count === 0 ? '–' : `${s.p50} / ${s.p99} / ${s.max}`);

/** What a reader must know to read the rows: a strategy whose sales went through the Redis lock anyway. */
function notes(report: Report): string[] {
  const lines: string[] = [];
  for (const r of report.results) {
    if (r.contender === 'floor' || r.contender.startsWith('redis-lock') || !r.redis.lockedSeats) continue;
    lines.push(
      `- **${r.contender}**: ${r.redis.lockedSeats} of its ${r.sale.sold} sold seats carry a Redis ticket-lock key under its own key prefix: its sales went through the Redis lock, so the server did not sell with \`PURCHASE_STRATEGY=${r.contender}\` and this row does not measure that strategy.`,
    );
  }
  return lines.length > 0 ? ['', ...lines] : [];
}

/** The comparison tables, the targets and the machine, in Markdown. */
export function markdown(report: Report, scenario: Scenario): string {
  const floor = report.results.find((r) => r.contender === 'floor');
  const rows = report.results.map((r) => {
    const ratio = floor ? `${(r.attemptsPerSecond / Math.max(1, floor.attemptsPerSecond)).toFixed(2)}×` : '–';
    const invariants = r.invariants ? (r.invariants.every((i) => i.pass) ? 'PASS' : 'FAIL') : 'n/a';
    const pg = r.pg ? `${r.pg.perAttempt} / ${r.pg.perSale ?? '–'}` : '–';
    const gen = `${r.load.generator.cpuPercent}%`;
    const cpu = `${r.cpu.api} / ${r.cpu.postgres} / ${r.cpu.redis} / ${r.cpu.generator} / ${r.cpu.other}`;
    return `| ${r.contender} | ${r.attemptsPerSecond} | ${ratio} | ${r.load.wins} | ${byReason(r.load.rejects)} | ${byReason(r.load.errors)}${r.load.dropped ? `, dropped ${r.load.dropped}` : ''} | ${pg} | ${redisCost(r)} | ${gen} | ${cpu} | ${invariants} |`;
  });
  const liveRows = report.results.some((r) => r.live)
    ? [
        '',
        '| strategy | subscribers (subscribed) | messages per subscriber per second | commit → client p50 / p95 / p99 / max (ms) | deliveries | failures |',
        '| --- | --- | --- | --- | --- | --- |',
        ...report.results.flatMap((r) =>
          r.live
            ? [
                `| ${r.contender} | ${r.live.subscribers} (${r.live.connected}) | ${r.live.messagesPerSubscriberPerSecond} | ${lat(r.live.commitToClient)} | ${r.live.commitToClient.count} | ${byReason(r.live.failures)} |`,
              ]
            : [],
        ),
      ]
    : [];
  return [
    `# ${report.name}`,
    '',
    `\`npm run loadtest -- ${report.command}\` (${shapeText(report.options, scenario)}), started ${report.startedAt}.`,
    '',
    `Machine: ${machineLine(report.machine)}. Generator, servers, Postgres and Redis share it.`,
    '',
    '| strategy | attempts/s | × floor | wins | rejections | errors | PG xacts per attempt / per sale | Redis cmds / CPU µs per attempt | generator CPU | CPU % api / pg / redis / gen / other | invariants |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    ...latencyRows(report),
    ...(scenario.reportLines?.(report.results) ?? []),
    ...notes(report),
    ...liveRows,
    '',
    '## Targets',
    '',
    ...report.goals.map((g) => `- **${g.verdict}**: ${g.goal}. ${g.evidence}`),
    '',
    '## Invariants (SQL, after each run)',
    '',
    ...report.results.flatMap((r) =>
      r.invariants
        ? r.invariants.map((i) => `- ${r.contender}: ${i.pass ? 'PASS' : 'FAIL'} ${i.name} (${i.detail})`)
        : [`- ${r.contender}: n/a (no database)`],
    ),
    '',
    `Chart: ![latency from schedule by percentile](${report.name}.svg)`,
    '',
  ].join('\n');
}

/** Writes `<name>.json`, `<name>.md` and `<name>.svg` into the results folder; returns their paths. */
export async function writeReport(outDir: string, report: Report, scenario: Scenario): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const base = join(outDir, report.name);
  const files = [`${base}.json`, `${base}.md`, `${base}.svg`];
  await writeFile(files[0] as string, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(files[1] as string, markdown(report, scenario));
  const title = `${report.name}: ${shapeText(report.options, scenario)}, latency from schedule`;
  await writeFile(files[2] as string, latencyChart(title, report.results));
  return files;
}

/**
 * A compact console summary per contender: one line of counts, then its latency from schedule and
 * from actual send side by side, the generator's lag, and the scenario's own lines.
 */
export function summaryLines(report: Report, scenario?: Pick<Scenario, 'consoleLines'>): string[] {
  const p50p99 = (s: LatencySummary) => (s.count === 0 ? '–' : `${s.p50}/${s.p99}`);
  return report.results.flatMap((r) => {
    const { fromSchedule, fromSend } = r.load.latency;
    const seats = r.sale.group ? ` (${r.sale.sold}/${r.sale.seats} seats)` : '';
    return [
      `${r.contender.padEnd(15)} ${String(r.attemptsPerSecond).padStart(6)} att/s  wins ${r.load.wins}${seats}  rejects ${sum(r.load.rejects)}  errors ${sum(r.load.errors)}  pg/attempt ${r.pg?.perAttempt ?? '–'}  redis/attempt ${redisCost(r)}  gen CPU ${r.load.generator.cpuPercent}%  box CPU api/pg/redis/gen/other ${r.cpu.api}/${r.cpu.postgres}/${r.cpu.redis}/${r.cpu.generator}/${r.cpu.other}%`,
      `${''.padEnd(15)} latency p50/p99 ms   from schedule   from actual send`,
      `${''.padEnd(15)}   rejections         ${p50p99(fromSchedule.rejects).padEnd(15)} ${p50p99(fromSend.rejects)}`,
      `${''.padEnd(15)}   wins               ${p50p99(fromSchedule.wins).padEnd(15)} ${p50p99(fromSend.wins)}`,
      `${''.padEnd(15)} generator lag p50/p99/max ${lagText(r.load.sendLag).replaceAll(' ', '')} ms`,
      ...(scenario?.consoleLines?.(r) ?? []).map((line) => `${''.padEnd(15)} ${line}`),
    ];
  });
}

/** Redis commands per attempt, and the Redis servers' CPU µs per attempt where the report has it. */
function redisCost(r: ContenderResult): string {
  const cpu = r.redis.cpuMicrosPerAttempt;
  return cpu === undefined ? String(r.redis.perAttempt) : `${r.redis.perAttempt} / ${cpu}`;
}
