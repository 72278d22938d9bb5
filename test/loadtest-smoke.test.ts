import { access, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoEarlier, onlyReport, runHarness } from './helpers/loadtest-harness.js';

// The load-test harness, run for real but briefly: it starts the API as separate processes on a
// fresh database, drives a few hundred purchases and checks the invariants in SQL. Correctness
// only: no assertion here is about speed.

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
