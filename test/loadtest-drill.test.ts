import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHarness } from './helpers/loadtest-harness.js';

// The fault drill, run for real but briefly: two instances on a fresh database, a Redis of the
// drill's own that it kills and starts again under load, then the whole history checked against the
// database. Correctness only: no assertion here is about availability or recovery time.

interface DrillJson {
  passed: boolean;
  historyFile: string;
  operations: number;
  soldOutMs: number | null;
  attempts: { ok: number; refused: number; unknown: number };
  unknowns: { met: number; resolved: number; stayed: number };
  faults: Array<{ nemesis: string; start: number; end: number }>;
  checks: Array<{ after: string; wrong: number[] }>;
  verdicts: Array<{ rule: string; pass: boolean; detail: string; examples: string[] }>;
}

describe('the fault drill (short, correctness only)', () => {
  let outDir: string;

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'flux-drill-'));
  });
  afterAll(async () => {
    await rm(outDir, { recursive: true, force: true });
  });

  it('restarts its own Redis under load: every acknowledged answer agrees with the database, no seat sold twice, every seat map converges, exit code 0', async () => {
    const { code, output } = await runHarness(outDir, [
      'drill',
      '--nemesis',
      'redis-restart',
      // The closed loop: 8 clients can never pile up timeouts beside the rest of the suite. At 150
      // sessions/s here, p90 once reached 3 s, and most attempts timed out. That run met a gap since
      // closed (LOG.md 2026-12-05, "A violation under overload"); the one the README still documents
      // (a stalled twin that outlives Redis' record of its key's refusal) also needs such a pile-up.
      '--rate',
      '0',
      '--workers',
      '8',
      '--seats',
      '2000',
      '--warmup',
      '1s',
      '--before',
      '1500ms',
      '--after',
      '2500ms',
      '--resync-ms',
      '1000',
      '--redis-down',
      '500ms',
      '--hold-seconds',
      '2',
      '--subscribers',
      '2',
    ]);
    expect(code, output).toBe(0);
    const files = await readdir(outDir);
    const json = files.find((f) => /^drill-redis-restart-.*\.json$/.test(f));
    expect(files).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^drill-redis-restart-.*\.svg$/),
        expect.stringMatching(/^drill-redis-restart-.*\.history\.jsonl$/),
      ]),
    );
    const report = JSON.parse(await readFile(join(outDir, json ?? ''), 'utf8')) as DrillJson;
    expect(report.passed).toBe(true);
    expect(report.verdicts.filter((v) => !v.pass)).toEqual([]);
    expect(report.verdicts.map((v) => v.rule)).toEqual([
      expect.stringMatching(/^acknowledged success/),
      expect.stringMatching(/^acknowledged refusal/),
      expect.stringMatching(/^no ticket in two live orders/),
      expect.stringMatching(/^holds expire on time/),
      'SQL invariants',
      expect.stringMatching(/^every subscriber's seat map/),
    ]);
    expect(report.faults.map((f) => f.nemesis)).toEqual(['redis-restart']);
    expect(report.checks.map((c) => c.after)).toEqual(['redis-restart', 'final']);
    expect(report.checks.every((c) => c.wrong.every((n) => n === 0))).toBe(true);
    // The load really ran and bought, through the fault and after it (the venue did not sell out),
    // and every attempt is a line of the history.
    expect(report.attempts.ok).toBeGreaterThan(0);
    expect(report.soldOutMs).toBeNull();
    const lines = (await readFile(report.historyFile, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(report.attempts.ok + report.attempts.refused + report.attempts.unknown);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ op: expect.any(Number), invoke: expect.any(Number) });
    expect(report.unknowns.resolved + report.unknowns.stayed).toBe(report.unknowns.met);
  }, 180_000);
});
