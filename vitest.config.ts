import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Pothos and yoga load graphql as CommonJS; point vitest's ESM imports at the same copy, or
  // graphql's instanceof checks see two realms.
  resolve: { alias: { graphql: 'graphql/index.js' } },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Concurrency tests saturate this 2-core machine on their own; files run two at a time.
    maxWorkers: 2,
  },
});
