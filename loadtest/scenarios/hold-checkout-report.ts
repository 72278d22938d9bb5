import type { ContenderResult, HoldFigures } from '../contender-result.js';
import { type GoalVerdict, met } from '../goals.js';
import type { LatencySummary } from '../latency.js';
import type { StatementDelta } from '../statement-counter.js';
import { BLOCKING_HOLDS, HOLD_STATEMENT } from './hold-checkout-buyers.js';

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
export const bump = (counts: Record<string, number>, key: string, by = 1) => {
  counts[key] = (counts[key] ?? 0) + by;
};
export const byCount = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort(([, a], [, b]) => b - a)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || 'none';
export const lagText = (s: LatencySummary) => (s.count === 0 ? '–' : `${s.p50} / ${s.p99} / ${s.max}`);

export const holdStatements = (delta: StatementDelta) =>
  Object.entries(delta.byText)
    .filter(([text]) => HOLD_STATEMENT.test(text))
    .reduce((sum, [, n]) => sum + n, 0);

/** The texts cut to their first 160 characters (for the report), counts merged where they then agree. */
export function shortTexts(delta: StatementDelta): StatementDelta {
  const byText: Record<string, number> = {};
  for (const [text, n] of Object.entries(delta.byText))
    bump(byText, text.length > 160 ? `${text.slice(0, 159)}…` : text, n);
  return { ...delta, byText };
}

// ---------------------------------------------------------------------------------------------
// The report: the console lines, the Markdown table and notes, the targets.

function refusalText(cost: HoldFigures['refusalCost']): string {
  if (!cost) return 'refusal window: not measured';
  return `refusal window: ${cost.refusals} refused holds (${byCount(cost.outcomes)}) in ${cost.window.ms} ms: ${cost.window.total} statements (${cost.idle.total} in the ${cost.idle.ms} ms idle window before), ${cost.unexplained} of kinds the idle servers did not send → ${cost.perRefusal} per refusal; hold statements ${cost.holdStatements}${cost.clean ? '' : ' (a blocking hold expired before the window ended: not clean)'}`;
}

export function consoleLines(r: ContenderResult): string[] {
  const h = r.sale.holds;
  if (!h) return [];
  const c = h.checkouts;
  const lag = h.expiryLag;
  return [
    `holds ${h.made} (${h.holdSeconds} s each): ${h.perSecond}/s; checkouts ${c.made} of ${c.sent} sent: ${c.perSecond}/s, p50/p99 ${c.latency.p50}/${c.latency.p99} ms from due; walked away ${h.walkedAway}`,
    `hold refusals: ${byCount(r.load.rejects)}; checkout answers: ${byCount(c.outcomes)}`,
    refusalText(h.refusalCost),
    `expiry lag p50/p99/max ms: database ${lagText(lag.database).replaceAll(' ', '')} (${lag.database.count} holds); subscriber ${lagText(lag.subscriber).replaceAll(' ', '')} (${lag.subscriber.count} seats; ${lag.retaken} re-taken first, ${lag.unheard} unheard)`,
    h.statements
      ? `Postgres statements, load start to last expiry: ${h.statements.total} (${h.statements.holdStatements} hold statements for ${h.made} holds made)`
      : 'Postgres statements: not counted',
  ];
}

export function reportLines(results: readonly ContenderResult[]): string[] {
  return results.flatMap((r) => {
    const h = r.sale.holds;
    if (!h) return [];
    const c = h.checkouts;
    const lag = h.expiryLag;
    const cost = h.refusalCost;
    return [
      '',
      `### ${r.contender}: holds and checkouts`,
      '',
      '| holds made | holds/s | seats per hold (holds) | checkouts made / sent | checkouts/s | checkout p50 / p95 / p99 / max from due (ms) | walked away | hold refusals | checkout answers |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      `| ${h.made} | ${h.perSecond} | ${byCount(h.bySeats)} | ${c.made} / ${c.sent} | ${c.perSecond} | ${c.latency.p50} / ${c.latency.p95} / ${c.latency.p99} / ${c.latency.max} | ${h.walkedAway} | ${byCount(r.load.rejects)} | ${byCount(c.outcomes)} |`,
      '',
      '| expiry lag (ms) | p50 / p99 / max | count |',
      '| --- | --- | --- |',
      `| expires_at → AVAILABLE in Postgres (ended_at) | ${lagText(lag.database)} | ${lag.database.count} holds |`,
      `| expires_at → AVAILABLE message at the subscriber | ${lagText(lag.subscriber)} | ${lag.subscriber.count} seats (${lag.retaken} taken again before an AVAILABLE message, ${lag.unheard} unheard) |`,
      '',
      `- Refusal cost: ${refusalText(cost)}.${cost ? ` Sent only in the refusal window: ${byCount(cost.onlyInWindow)}.` : ''}`,
      h.statements
        ? `- Postgres statements from the load's start to the end of the expiry wait: ${h.statements.total}, of which ${h.statements.holdStatements} hold statements for ${h.made} holds made (the difference: hold statements Postgres itself refused, or ran again after freeing an expired hold's seats).`
        : '- Postgres statements: not counted.',
      `- Holds last ${h.holdSeconds} s (\`HOLD_TTL_MS\`); ${Math.round(h.checkoutShare * 100)} % of buyers check out ${h.thinkMs / 1000} s after their hold's answer, the rest walk away. The ${BLOCKING_HOLDS} holds that block the refusal window count as walked away. The servers reach Postgres through the harness' statement counter, a loopback proxy.`,
    ];
  });
}

export function judge(product: ContenderResult): GoalVerdict[] {
  const h = product.sale.holds;
  if (!h) return [];
  const cost = h.refusalCost;
  const { database, subscriber } = h.expiryLag;
  const lagGoal = (where: string, s: LatencySummary, unit: string): GoalVerdict => ({
    goal: `expiry lag to ${where} p99 ≤ 1 s (redis-lock)`,
    verdict: s.count === 0 ? 'n/a' : met(s.p99 <= 1000),
    evidence:
      s.count === 0
        ? `no ${unit} expired`
        : `p50 ${s.p50} ms, p99 ${s.p99} ms, max ${s.max} ms over ${s.count} ${unit}`,
  });
  return [
    {
      goal: 'refused holds cost 0 Postgres statements (redis-lock)',
      verdict: !cost?.clean || cost.refusals === 0 ? 'n/a' : met(cost.holdStatements === 0 && cost.perRefusal <= 0.01),
      evidence: cost
        ? `${refusalText(cost)}. A refusal that reached Postgres would send at least its hold statement or a read the idle servers never send; judged at ≤ 0.01 per refusal, so a periodic read landing in the window (the live resync, every 5 s) does not count as a cost`
        : 'not measured',
    },
    lagGoal('AVAILABLE in the database', database, 'holds'),
    lagGoal("the subscriber's AVAILABLE message", subscriber, 'seats'),
  ];
}
