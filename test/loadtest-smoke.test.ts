import { spawn } from 'node:child_process';
import { access, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_ADMIN_URL, TEST_REDIS_URL } from './helpers/services.js';

// The load-test harness, run for real but briefly: it starts the API as separate processes on a
// fresh database, drives a few hundred purchases and checks the invariants in SQL. Correctness
// only: no assertion here is about speed.

interface Latency {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}
type ByOutcome = Record<'wins' | 'rejects' | 'all', Latency>;

interface SmokeReport {
  passed: boolean;
  results: Array<{
    contender: string;
    load: {
      wins: number;
      sent: number;
      completed: number;
      dropped: number;
      rejects: Record<string, number>;
      errors: Record<string, number>;
      latency: { fromSchedule: ByOutcome; fromSend: ByOutcome };
      sendLag: Latency;
    };
    sale: {
      seats: number;
      sold: number;
      group?: { size: number; perCustomerLimit: number; orders: number; freeBlocks: number };
      holds?: {
        made: number;
        walkedAway: number;
        checkouts: { sent: number; made: number; outcomes: Record<string, number> };
        refusalCost: { refusals: number; outcomes: Record<string, number>; holdStatements: number } | null;
        statements: { holdStatements: number } | null;
        expiryLag: { database: Latency; subscriber: Latency };
      };
    };
    invariants: Array<{ name: string; pass: boolean }> | null;
    live?: {
      subscribers: number;
      connected: number;
      commitToClient: { count: number };
      failures: Record<string, number>;
    };
  }>;
}

async function runHarness(outDir: string, args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'loadtest/run.ts', ...args, '--out', outDir, '--quiet'], {
    env: { ...process.env, LOADTEST_DATABASE_URL: PG_ADMIN_URL, LOADTEST_REDIS_URL: TEST_REDIS_URL },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, output };
}

async function onlyReport(outDir: string, prefix: string): Promise<SmokeReport> {
  const files = (await readdir(outDir)).filter((f) => f.startsWith(prefix) && f.endsWith('.json'));
  expect(files).toHaveLength(1);
  return JSON.parse(await readFile(join(outDir, files[0] as string), 'utf8')) as SmokeReport;
}

/** Each percentile of `later` is at least that of `earlier`, for every outcome. */
function expectNoEarlier(later: ByOutcome, earlier: ByOutcome): void {
  for (const outcome of ['wins', 'rejects', 'all'] as const) {
    expect(later[outcome].count).toBe(earlier[outcome].count);
    for (const p of ['p50', 'p95', 'p99', 'max'] as const) {
      expect(later[outcome][p], `${outcome} ${p}`).toBeGreaterThanOrEqual(earlier[outcome][p]);
    }
  }
}

describe('the load-test harness (smoke, correctness only)', () => {
  let outDir: string;

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'flux-loadtest-'));
  });
  afterAll(async () => {
    await rm(outDir, { recursive: true, force: true });
  });

  it('runs hot-seat for 2 s at 150 attempts/s: one sale, latency from schedule never below latency from send, the invariants PASS, exit code 0', async () => {
    const { code, output } = await runHarness(outDir, [
      'hot-seat',
      '--rate',
      '150',
      '--duration',
      '2s',
      '--buyers',
      '300',
      '--warmup',
      '200',
    ]);
    expect(code, output).toBe(0);
    const report = await onlyReport(outDir, 'hot-seat-2');
    const [result] = report.results;
    expect(report.passed).toBe(true);
    expect(result?.contender).toBe('redis-lock');
    expect(result?.load.completed).toBeGreaterThan(200);
    expect(result?.load.wins).toBe(1);
    expect(result?.load.errors).toEqual({});
    expect(result?.invariants?.every((i) => i.pass)).toBe(true);
    expect(await readdir(outDir)).toEqual(expect.arrayContaining([expect.stringMatching(/^hot-seat-.*\.svg$/)]));
    // Open loop: latency runs from when the schedule meant each request to leave, so a late send adds to it.
    const load = result?.load;
    if (!load) throw new Error('no result');
    expectNoEarlier(load.latency.fromSchedule, load.latency.fromSend);
    expect(load.latency.fromSchedule.all.count).toBe(load.completed);
    expect(load.sendLag.count).toBe(load.sent);
    expect(load.sendLag.p50).toBeGreaterThanOrEqual(0);
    expect(output).toMatch(/latency p50\/p99 ms +from schedule +from actual send/);
    expect(output).toMatch(/generator lag p50\/p99\/max [\d./]+ ms/);
    const markdown = (await readdir(outDir)).find((f) => /^hot-seat-2.*\.md$/.test(f)) ?? '';
    expect(await readFile(join(outDir, markdown), 'utf8')).toContain(
      '| rejection p50 / p95 / p99 / max from schedule (ms) | from actual send |',
    );
  });

  it('runs seat-rush on 200 seats until they are gone: every seat sold once, the invariants PASS, exit code 0', async () => {
    const { code, output } = await runHarness(outDir, [
      'seat-rush',
      '--seats',
      '200',
      '--rate',
      '200',
      '--duration',
      '6s',
      '--buyers',
      '300',
      '--warmup',
      '200',
    ]);
    expect(code, output).toBe(0);
    const report = await onlyReport(outDir, 'seat-rush-2');
    const [result] = report.results;
    expect(report.passed).toBe(true);
    expect(result?.sale).toEqual({ ...result?.sale, seats: 200, sold: 200 });
    expect(result?.load.wins).toBe(200);
    expect(result?.invariants?.every((i) => i.pass)).toBe(true);
  });

  it('runs multi-seat for 60 buyers on 400 seats in groups of 4: whole groups only, one per buyer, the invariants PASS, exit code 0', async () => {
    // The event's limit is the group size, so 60 buyers can take at most 60 of the ~80 groups that fit:
    // once they come round again they meet PurchaseLimitReached, and free blocks are left at the end.
    const { code, output } = await runHarness(outDir, [
      'multi-seat',
      '--seats',
      '400',
      '--group',
      '4',
      '--rate',
      '150',
      '--duration',
      '2s',
      '--buyers',
      '60',
      '--warmup',
      '200',
    ]);
    expect(code, output).toBe(0);
    const report = await onlyReport(outDir, 'multi-seat-2');
    const [result] = report.results;
    expect(report.passed).toBe(true);
    expect(result?.load.errors).toEqual({});
    expect(result?.load.wins).toBeGreaterThan(0);
    expect(result?.load.wins).toBeLessThanOrEqual(60);
    expect(result?.load.rejects.PurchaseLimitReached).toBeGreaterThan(0);
    expect(result?.sale.group).toMatchObject({ size: 4, perCustomerLimit: 4, orders: result?.load.wins });
    expect(result?.sale.group?.freeBlocks).toBeGreaterThan(0);
    expect(result?.sale.sold).toBe((result?.load.wins ?? 0) * 4);
    expect(result?.invariants?.map((i) => i.name)).toEqual(
      expect.arrayContaining([
        "every order's lines = its seats",
        'no partial orders',
        'no customer over the per-customer limit',
      ]),
    );
    expect(result?.invariants?.every((i) => i.pass)).toBe(true);
  });

  it('compares the compiled floor server with redis-lock in a closed loop: one sale each, the same latency both ways (no schedule), exit code 0', async () => {
    const { code, output } = await runHarness(outDir, [
      'compare',
      '--scenario',
      'hot-seat',
      '--strategies',
      'floor,redis-lock',
      '--connections',
      '8',
      '--duration',
      '1s',
      '--buyers',
      '300',
      '--warmup',
      '200',
    ]);
    expect(code, output).toBe(0);
    // Both contenders run compiled code: the API's production bundle and the floor's own.
    expect(output).toMatch(/servers: node dist\/main\.js \(.*\), node loadtest\/\.build\/floor-server\.js/);
    await access(new URL('../loadtest/.build/floor-server.js', import.meta.url));
    expect(output).toMatch(/latency p50\/p99 ms +from schedule +from actual send/);
    const report = await onlyReport(outDir, 'hot-seat-compare-');
    expect(report.passed).toBe(true);
    expect(report.results.map((r) => r.contender)).toEqual(['floor', 'redis-lock']);
    for (const result of report.results) {
      expect(result.load.wins).toBe(1);
      expect(result.load.errors).toEqual({});
      expect(result.load.latency.fromSchedule).toEqual(result.load.latency.fromSend);
      expect(result.load.sendLag.count).toBe(0);
    }
    expect(report.results[0]?.invariants).toBeNull();
    expect(report.results[1]?.invariants?.every((i) => i.pass)).toBe(true);
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

  it('runs live seat-rush with 5 subscribers: each sees every sale once, the invariants PASS, exit code 0', async () => {
    const { code, output } = await runHarness(outDir, [
      'live',
      '--scenario',
      'seat-rush',
      '--subscribers',
      '5',
      '--seats',
      '150',
      '--rate',
      '150',
      '--duration',
      '3s',
      '--buyers',
      '300',
      '--warmup',
      '200',
    ]);
    expect(code, output).toBe(0);
    const report = await onlyReport(outDir, 'seat-rush-live-');
    const [result] = report.results;
    expect(report.passed).toBe(true);
    expect(result?.live).toMatchObject({ subscribers: 5, connected: 5, failures: {} });
    // One delivery per sold seat per subscriber: the subscribers' reading of the messages misses none.
    expect(result?.live?.commitToClient.count).toBe((result?.sale.sold ?? 0) * 5);
    expect(result?.sale.sold).toBe(150);
    expect(result?.invariants?.every((i) => i.pass)).toBe(true);
  });
});
