import type { LoadOptions } from './options.js';
import type { ContenderResult } from './run-one.js';

/** One target from the issue, judged against this invocation's figures. */
export interface GoalVerdict {
  goal: string;
  verdict: 'MET' | 'MISSED' | 'n/a';
  evidence: string;
}

const met = (ok: boolean): GoalVerdict['verdict'] => (ok ? 'MET' : 'MISSED');

/**
 * The targets that this invocation's shape can speak to; the others are left out rather
 * than judged on the wrong load (a saturation ratio needs a closed loop, seat-rush needs a venue).
 */
export function judgeGoals(options: LoadOptions, results: ContenderResult[]): GoalVerdict[] {
  const verdicts: GoalVerdict[] = [];
  const product = results.find((r) => r.contender === 'redis-lock');
  const by = (name: string) => results.find((r) => r.contender === name);

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
  // The remaining targets are for one-seat purchases; multi-seat has none of its own.
  if (!product || options.scenario === 'multi-seat') return verdicts;
  const lat = product.load.latency.fromSchedule;

  if (options.scenario === 'hot-seat' && options.shape.kind === 'open') {
    verdicts.push({
      goal: `hot seat at ${options.shape.rate}/s: rejection p50 ≤ 3 ms and p99 ≤ 20 ms from schedule (redis-lock)`,
      verdict: met(lat.rejects.p50 <= 3 && lat.rejects.p99 <= 20),
      evidence: `p50 ${lat.rejects.p50} ms, p99 ${lat.rejects.p99} ms over ${lat.rejects.count} rejections; achieved ${product.attemptsPerSecond} attempts/s`,
    });
  }
  if (product.pg) {
    // With a handful of sales, per-instance background reads (the sale-settings cache refreshes once
    // per SALE_SETTINGS_TTL_MS) swamp the ratio; judge it where sales dominate.
    const { transactions, perAttempt } = product.pg;
    const wins = product.load.wins;
    verdicts.push({
      goal: 'Postgres transactions per sold ticket ≈ 1 (redis-lock)',
      verdict: wins >= 100 ? met(transactions / wins <= 1.1) : 'n/a',
      evidence: `${transactions} transactions for ${wins} sales (${perAttempt} per attempt)${wins < 100 ? '; too few sales to judge: the rest are the sale-settings cache refreshing every 5 s per instance' : ''}`,
    });
  }
  if (options.shape.kind === 'closed') {
    const ratios: Array<[string, number, (x: number) => boolean]> = [
      ['floor', 0.7, (x) => x >= 0.7],
      ['pg-row-lock', 3, (x) => x >= 3],
      ['pg-optimistic', 1.5, (x) => x >= 1.5],
      ['pg-conditional', 1, (x) => x >= 1],
    ];
    for (const [name, want, ok] of ratios) {
      const other = by(name);
      if (!other) continue;
      const ratio = product.attemptsPerSecond / Math.max(1, other.attemptsPerSecond);
      verdicts.push({
        goal: `redis-lock at saturation ≥ ${want}× ${name}`,
        verdict: met(ok(ratio)),
        evidence: `${product.attemptsPerSecond} vs ${other.attemptsPerSecond} attempts/s = ${ratio.toFixed(2)}×`,
      });
    }
  }
  if (product.live) {
    const { commitToClient, messagesPerSubscriberPerSecond, connected, subscribers } = product.live;
    verdicts.push({
      goal: `live: ${subscribers} subscribers, commit-to-client p99 ≤ 100 ms (redis-lock)`,
      verdict: met(connected === subscribers && commitToClient.count > 0 && commitToClient.p99 <= 100),
      evidence: `p50 ${commitToClient.p50} ms, p99 ${commitToClient.p99} ms, max ${commitToClient.max} ms over ${commitToClient.count} ticket deliveries; ${connected}/${subscribers} subscribed; ${messagesPerSubscriberPerSecond} messages per subscriber per second`,
    });
  }
  if (options.scenario === 'seat-rush') {
    const { sale } = product;
    verdicts.push({
      goal: `seat rush: exactly ${sale.seats} sold, ≥ 1,000 sales/s, winner p99 ≤ 25 ms from schedule (redis-lock)`,
      verdict: met(sale.soldOut && (sale.salesPerSecond ?? 0) >= 1000 && lat.wins.p99 <= 25),
      evidence: `${sale.sold} sold, ${sale.salesPerSecond ?? 0} sales/s to the last sale, winner p99 ${lat.wins.p99} ms`,
    });
  }
  return verdicts;
}
