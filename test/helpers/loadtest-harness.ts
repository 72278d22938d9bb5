import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { PG_ADMIN_URL, TEST_REDIS_URL } from './services.js';

export interface Latency {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}
export type ByOutcome = Record<'wins' | 'rejects' | 'all', Latency>;

export interface SmokeReport {
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

/** Runs `npm run loadtest` (through tsx) with `args`, writing its reports to `outDir`. */
export async function runHarness(outDir: string, args: string[]): Promise<{ code: number | null; output: string }> {
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

/** The one JSON report in `outDir` whose name starts with `prefix`. */
export async function onlyReport(outDir: string, prefix: string): Promise<SmokeReport> {
  const files = (await readdir(outDir)).filter((f) => f.startsWith(prefix) && f.endsWith('.json'));
  expect(files).toHaveLength(1);
  return JSON.parse(await readFile(join(outDir, files[0] as string), 'utf8')) as SmokeReport;
}

/** Each percentile of `later` is at least that of `earlier`, for every outcome. */
export function expectNoEarlier(later: ByOutcome, earlier: ByOutcome): void {
  for (const outcome of ['wins', 'rejects', 'all'] as const) {
    expect(later[outcome].count).toBe(earlier[outcome].count);
    for (const p of ['p50', 'p95', 'p99', 'max'] as const) {
      expect(later[outcome][p], `${outcome} ${p}`).toBeGreaterThanOrEqual(earlier[outcome][p]);
    }
  }
}
