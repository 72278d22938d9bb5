/** Where the test suite finds the real services; both default to this machine's loopback. */
export const PG_ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** The migrated database that every test database is copied from (made once per run). */
export const TEMPLATE_DATABASE = 'flux_test_template';
/** A secret used only by tests. */
export const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret-0123456789';

/** The URL of database `name` on the test server. */
export function databaseUrl(name: string): string {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}
