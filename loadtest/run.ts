import { randomBytes } from 'node:crypto';
import { signBuyers } from './buyers.js';
import { API_SCRIPT, compileServers, FLOOR_SCRIPT } from './compile.js';
import type { ContenderResult } from './contender-result.js';
import type { RunContext } from './contender-run.js';
import { DRILL_USAGE, type DrillOptions, parseDrillOptions } from './drill/options.js';
import { runDrill } from './drill/run-drill.js';
import { judgeGoals } from './goals.js';
import { describeMachine } from './machine.js';
import { type Invocation, parseLoadOptions, USAGE } from './options.js';
import { REPO_ROOT } from './processes.js';
import { type Report, summaryLines, writeReport } from './report.js';
import { runContender } from './run-one.js';
import { checkServices } from './services.js';

/** `npm run loadtest -- drill …`: the fault drill (drill/), which has its own options and report. */
async function drill(argv: string[]): Promise<number> {
  let options: DrillOptions;
  try {
    options = parseDrillOptions(argv.slice(1));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${DRILL_USAGE}`);
    return 2;
  }
  const { passed, files } = await runDrill(options, argv.join(' '));
  console.log(`wrote ${files.join(', ')}`);
  return passed ? 0 : 1;
}

/**
 * `npm run loadtest -- <scenario> [options]`: starts the compiled API as real processes on a fresh
 * database, drives the sale, checks the invariants in SQL and writes the report. Exits 1 on an
 * invariant FAIL, 2 on bad usage.
 */
async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'drill') return drill(argv);
  let invocation: Invocation;
  try {
    invocation = parseLoadOptions(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}\n\n${DRILL_USAGE}`);
    return 2;
  }
  const { options, plan } = invocation;
  await checkServices();
  const withFloor = options.contenders.includes('floor');
  const built = await compileServers(withFloor);
  const scripts = withFloor ? [API_SCRIPT, FLOOR_SCRIPT] : [API_SCRIPT];
  console.error(
    `servers: ${scripts.map((s) => `node ${s} (${built.includes(s) ? 'built now' : 'up to date'})`).join(', ')}`,
  );
  const startedAt = new Date();
  const runId = `${startedAt.toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15)}_${randomBytes(2).toString('hex')}`;
  const machine = await describeMachine(REPO_ROOT);
  const jwtSecret = randomBytes(32).toString('hex');
  const ctx: RunContext = {
    options,
    plan,
    runId,
    jwtSecret,
    authorizations: await signBuyers(jwtSecret, `load-${runId}`, options.buyers),
    cleanups: new Set(),
  };
  let interrupted = false;
  const interrupt = () => {
    if (interrupted) return;
    interrupted = true;
    console.error('interrupted: stopping servers and dropping the load databases');
    Promise.all([...ctx.cleanups].map((clean) => clean())).then(
      () => process.exit(130),
      () => process.exit(130),
    );
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  console.error(`load test ${runId}: ${argv.join(' ')}`);
  const results: ContenderResult[] = [];
  for (const contender of options.contenders) {
    console.error(`\n== ${contender}: ${options.scenario} ==`);
    results.push(await runContender(ctx, contender));
  }
  const goals = judgeGoals(options, plan, results);
  const passed = results.every((r) => r.invariants?.every((i) => i.pass) ?? true);
  const kind =
    options.command === 'compare'
      ? `${options.scenario}-compare`
      : options.command === 'live'
        ? `${options.scenario}-live`
        : options.scenario;
  const report: Report = {
    name: `${kind}-${runId}`,
    command: argv.join(' '),
    startedAt: startedAt.toISOString(),
    machine,
    options,
    results,
    goals,
    passed,
  };
  const files = await writeReport(options.outDir, report, plan);
  console.log(
    [
      '',
      ...summaryLines(report, plan),
      '',
      ...goals.map((g) => `${g.verdict.padEnd(6)} ${g.goal}: ${g.evidence}`),
    ].join('\n'),
  );
  console.log(`\ninvariants: ${passed ? 'PASS' : 'FAIL'}\nwrote ${files.join(', ')}`);
  return passed ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
