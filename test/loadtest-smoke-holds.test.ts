import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onlyReport, runHarness } from './helpers/loadtest-harness.js';

// The hold-checkout scenario of the load-test harness, run for real but briefly. Correctness only.

describe('the load-test harness: hold-checkout (smoke, correctness only)', () => {
  let outDir: string;

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'flux-loadtest-'));
  });
  afterAll(async () => {
    await rm(outDir, { recursive: true, force: true });
  });

  it('runs hold-checkout with 2 s holds: holds made, half checked out, the rest expired and announced, refusals sent no hold statement, the invariants PASS, exit code 0', async () => {
    const { code, output } = await runHarness(outDir, [
      'hold-checkout',
      '--seats',
      '400',
      '--rate',
      '100',
      '--duration',
      '2s',
      '--hold-seconds',
      '2',
      '--think',
      '0.3s',
      '--checkout-share',
      '0.5',
      '--buyers',
      '300',
      '--warmup',
      '200',
    ]);
    expect(code, output).toBe(0);
    const report = await onlyReport(outDir, 'hold-checkout-2');
    const [result] = report.results;
    const holds = result?.sale.holds;
    if (!result || !holds) throw new Error(`no hold figures:\n${output}`);
    expect(report.passed).toBe(true);
    expect(result.contender).toBe('redis-lock');
    expect(result.load.errors).toEqual({});
    // A win of the load is a hold; its checkout makes the order.
    expect(holds.made).toBe(result.load.wins);
    expect(holds.made).toBeGreaterThan(0);
    expect(holds.walkedAway).toBeGreaterThan(0);
    expect(holds.checkouts.made).toBeGreaterThan(0);
    expect(holds.checkouts.outcomes.CheckoutSuccess).toBe(holds.checkouts.made);
    // Every hold made ran the hold statement: the counter sees the servers' statements.
    expect(holds.statements?.holdStatements).toBeGreaterThanOrEqual(holds.made);
    // The refusal window: every answer HELD, and no refusal reached the hold statement.
    expect(holds.refusalCost?.refusals).toBeGreaterThan(0);
    expect(Object.keys(holds.refusalCost?.outcomes ?? {})).toEqual(['TicketsUnavailable:HELD']);
    expect(holds.refusalCost?.holdStatements).toBe(0);
    // The blocking holds and the walked-away ones expired during the run, in Postgres and on the seat map.
    expect(holds.expiryLag.database.count).toBeGreaterThan(0);
    expect(holds.expiryLag.subscriber.count).toBeGreaterThan(0);
    expect(result.invariants?.map((i) => i.name)).toEqual(
      expect.arrayContaining([
        'no seat HELD whose hold is not ACTIVE',
        'no hold ACTIVE more than 1 s past its expiry',
        "every checked-out hold's order = its seats",
        'customer counts = bought + actively held seats',
      ]),
    );
    expect(result.invariants?.every((i) => i.pass)).toBe(true);
    expect(output).toMatch(/expiry lag p50\/p99\/max ms: database [\d./]+ \(\d+ holds\); subscriber/);
  });

  it('refuses hold-checkout on any contender but redis-lock, naming why', async () => {
    const { code, output } = await runHarness(outDir, ['compare', '--scenario', 'hold-checkout', '--duration', '1s']);
    expect(code).toBe(2);
    expect(output).toContain(
      'hold-checkout runs on redis-lock only, not floor, pg-row-lock, pg-optimistic, pg-conditional',
    );
  });
});
