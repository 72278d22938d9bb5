import type { ContenderResult } from './contender-result.js';
import type { LoadOptions } from './options.js';
import type { SalePlan } from './scenarios/scenario.js';

/** One target from the issue, judged against this invocation's figures. */
export interface GoalVerdict {
  goal: string;
  verdict: 'MET' | 'MISSED' | 'n/a';
  evidence: string;
}

/** MET when `ok`. */
export const met = (ok: boolean): GoalVerdict['verdict'] => (ok ? 'MET' : 'MISSED');

/**
 * The targets this invocation can speak to: 0 oversells for every contender with a database, then
 * the scenario's own (see SalePlan.judge), judged on redis-lock. A target whose shape this run does
 * not have is left out rather than judged on the wrong load (a saturation ratio needs a closed loop).
 */
export function judgeGoals(options: LoadOptions, plan: SalePlan, results: ContenderResult[]): GoalVerdict[] {
  const verdicts: GoalVerdict[] = [];
  for (const r of results) {
    if (!r.invariants) continue;
    // Two invariants are the oversell checks; sold = wins can also fail on a buyer who won but timed
    // out, which is a different (and also reported) failure.
    const named = (name: string) => r.invariants?.find((i) => i.name === name);
    const once = named('no ticket sold twice');
    const match = named('orders match sold tickets');
    const soldIsWins = named('sold count equals wins');
    verdicts.push({
      goal: `0 oversells (${r.contender})`,
      verdict: met(Boolean(once?.pass && match?.pass)),
      evidence: [once, match].map((i) => i?.detail).join('; '),
    });
    if (soldIsWins && !soldIsWins.pass) {
      verdicts.push({
        goal: `sold count equals wins (${r.contender})`,
        verdict: 'MISSED',
        evidence: soldIsWins.detail,
      });
    }
  }
  const product = results.find((r) => r.contender === 'redis-lock');
  return product ? [...verdicts, ...plan.judge(options, product, results)] : verdicts;
}

/**
 * Postgres transactions per sold ticket: under 0.5 for the product (group commit shares one
 * transaction among a group's winners), ≈ 1 for `redis-lock-solo` (one each) when it ran too.
 * Judged only where sales outnumber background reads.
 */
function transactionsPerSale(product: ContenderResult, results: readonly ContenderResult[]): GoalVerdict[] {
  const solo = results.find((r) => r.contender === 'redis-lock-solo');
  return [
    ...perSale(product, 'Postgres transactions per sold ticket < 0.5 with group commit (redis-lock)', (x) => x < 0.5),
    ...(solo ? perSale(solo, 'Postgres transactions per sold ticket ≈ 1 (redis-lock-solo)', (x) => x <= 1.1) : []),
  ];
}

function perSale(result: ContenderResult, goal: string, pass: (perSale: number) => boolean): GoalVerdict[] {
  if (!result.pg) return [];
  // With a handful of sales, per-instance background reads (the sale-settings cache refreshes once
  // per SALE_SETTINGS_TTL_MS) swamp the ratio; judge it where sales dominate.
  const { transactions, perAttempt } = result.pg;
  const wins = result.load.wins;
  return [
    {
      goal,
      verdict: wins >= 100 ? met(pass(transactions / wins)) : 'n/a',
      evidence: `${transactions} transactions for ${wins} sales (${perAttempt} per attempt)${wins < 100 ? '; too few sales to judge: the rest are the sale-settings cache refreshing every 5 s per instance' : ''}`,
    },
  ];
}

/** redis-lock's attempts/s against each other contender of a closed-loop (saturation) run. */
function saturationRatios(
  options: LoadOptions,
  product: ContenderResult,
  results: readonly ContenderResult[],
): GoalVerdict[] {
  if (options.shape.kind !== 'closed') return [];
  const wanted: Array<[string, number]> = [
    ['floor', 0.7],
    ['pg-row-lock', 3],
    ['pg-optimistic', 1.5],
    ['pg-conditional', 1],
  ];
  return wanted.flatMap(([name, want]) => {
    const other = results.find((r) => r.contender === name);
    if (!other) return [];
    const ratio = product.attemptsPerSecond / Math.max(1, other.attemptsPerSecond);
    return [
      {
        goal: `redis-lock at saturation ≥ ${want}× ${name}`,
        verdict: met(ratio >= want),
        evidence: `${product.attemptsPerSecond} vs ${other.attemptsPerSecond} attempts/s = ${ratio.toFixed(2)}×`,
      },
    ];
  });
}

/** Live seat maps: commit-to-client p99 ≤ 100 ms with every subscriber subscribed. */
function liveLatency(product: ContenderResult): GoalVerdict[] {
  if (!product.live) return [];
  const { commitToClient, messagesPerSubscriberPerSecond, connected, subscribers } = product.live;
  return [
    {
      goal: `live: ${subscribers} subscribers, commit-to-client p99 ≤ 100 ms (redis-lock)`,
      verdict: met(connected === subscribers && commitToClient.count > 0 && commitToClient.p99 <= 100),
      evidence: `p50 ${commitToClient.p50} ms, p99 ${commitToClient.p99} ms, max ${commitToClient.max} ms over ${commitToClient.count} ticket deliveries; ${connected}/${subscribers} subscribed; ${messagesPerSubscriberPerSecond} messages per subscriber per second`,
    },
  ];
}

/** The targets for one-seat purchases that any such scenario is judged on: Postgres, ratios, live. */
export function oneSeatGoals(
  options: LoadOptions,
  product: ContenderResult,
  results: readonly ContenderResult[],
): GoalVerdict[] {
  return [
    ...transactionsPerSale(product, results),
    ...saturationRatios(options, product, results),
    ...liveLatency(product),
  ];
}
