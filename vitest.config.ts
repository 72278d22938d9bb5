import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Tests that need no service: no Postgres, no Redis, no built dist/. Every other test file is an
 * integration test, so a new file needs its services unless it is listed here.
 */
const UNIT = [
  'test/architecture.test.ts',
  'test/config.test.ts',
  'test/drill-checker.test.ts',
  'test/drill-load.test.ts',
  'test/event-tickets.test.ts',
  'test/jit.test.ts',
  'test/payload-json.test.ts',
  'test/purchase-service.test.ts',
  'test/query-cost.test.ts',
  'test/readme.test.ts',
  'test/sale-settings-cache.test.ts',
  'test/shared-execution.test.ts',
  'test/subscriber-stream.test.ts',
  'test/token-verifier.test.ts',
  'test/unavailable.test.ts',
  'test/web-operations.test.ts',
];

export default defineConfig({
  // Pothos and yoga load graphql as CommonJS; point vitest's ESM imports at the same copy, or
  // graphql's instanceof checks see two realms. Both projects inherit it (`extends: true`).
  resolve: { alias: { graphql: 'graphql/index.js' } },
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Concurrency tests saturate this 2-core machine on their own; files run two at a time.
    maxWorkers: 2,
    projects: [
      // `npx vitest run --project unit` runs these on a machine with no services at all.
      { extends: true, test: { name: 'unit', include: UNIT } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...UNIT],
          // Fails the run (never skips) when Postgres or Redis does not answer; builds the template
          // database and dist/.
          globalSetup: ['test/global-setup.ts'],
        },
      },
    ],
  },
});
