/** Where the test suite finds the real services; both default to this machine's loopback. */
export const PG_ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/**
 * Each run's migrated template, which every test database of the run is cloned from, is named with
 * this prefix, the time it was made and a random tag: runs started side by side (two people, two
 * checkouts, one Postgres) never drop each other's template.
 */
export const TEMPLATE_PREFIX = 'flux_test_template_';

declare module 'vitest' {
  export interface ProvidedContext {
    /** This run's template database (test/global-setup.ts provides it to the integration project). */
    templateDatabase: string;
  }
}
/** A secret used only by tests. */
export const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret-0123456789';

/** The URL of database `name` on the test server. */
export function databaseUrl(name: string): string {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}
