/**
 * The lifecycles of the integration tests, as vitest fixtures (`test.extend`): a test names what it
 * needs, `async ({ api, database }) => …`, and gets it ready; nothing else is started.
 *
 * `integrationTest(settings)` returns a `test` (used as `it` too) with these fixtures:
 *
 * - `database`: a database of the file's own, cloned from the migrated template, with a raw SQL client
 *   (`database.sql`) for assertions.
 * - `api`: one app instance started with `settings.app`: on `database` and Redis (under a key prefix
 *   of its own), or with `kind: 'embedded'` on PGlite and the in-process lock and pub/sub, in which
 *   case no database is made for it.
 * - `pair`: two instances on `database` sharing one Redis key prefix, as two servers behind a balancer
 *   ({@link startTwoInstances}); `settings.pair` configures each, else both get `settings.app`.
 * - `redis`: a Redis client for looking at keys, channels and connections.
 *
 * `database`, `api` and `pair` are file-scoped: made when a test in the file first asks for one, shared
 * by the file's later tests, and torn down once the file has run (apps stop before their database is
 * dropped). `redis` is the test's own. Each `integrationTest` call has fixtures of its own, so a file
 * with two configurations (both backends, a production mode) calls it once for each, at its top level:
 * vitest allows file-scoped fixtures only there. `test` is the call with default settings.
 *
 * ```ts
 * const it = integrationTest({ app: { env: { PURCHASE_RATE_LIMIT: '3' } } });
 * it('refuses the fourth attempt', async ({ api, database }) => { … });
 * ```
 *
 * A file adds fixtures of its own with `.extend`, on top of these (`via` in test/concurrency.test.ts).
 */
import { Redis } from 'ioredis';
import { test as base } from 'vitest';
import { type AppSettings, type BackendKind, startTestApp, startTwoInstances } from './app.js';
import { createTestDatabase } from './database.js';
import { TEST_REDIS_URL } from './services.js';

/** What the fixtures of one {@link integrationTest} are started with. */
export interface IntegrationSettings {
  /** The backend of `api` (`pair` is always real): Postgres and Redis unless `embedded`. */
  kind?: BackendKind;
  /** Settings for `api`, and for both instances of `pair` unless `pair` is given. */
  app?: AppSettings;
  /** Settings for each instance of `pair`. */
  pair?: [AppSettings, AppSettings];
}

/** A `test` with the fixtures above, started with `settings`; call it at a file's top level. */
export function integrationTest(settings: IntegrationSettings = {}) {
  const app = settings.app ?? {};
  return (
    base
      // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern.
      .extend('database', { scope: 'file' }, async ({}, { onCleanup }) => {
        const database = await createTestDatabase();
        onCleanup(() => database.drop());
        return database;
      })
      .extend(
        'api',
        { scope: 'file' },
        settings.kind === 'embedded'
          ? // biome-ignore lint/correctness/noEmptyPattern: as above; the embedded app needs no database.
            async ({}, { onCleanup }) => {
              const api = await startTestApp({ ...app, kind: 'embedded' });
              onCleanup(() => api.stop());
              return api;
            }
          : async ({ database }, { onCleanup }) => {
              const api = await startTestApp({ ...app, kind: 'real', databaseUrl: database.url });
              onCleanup(() => api.stop());
              return api;
            },
      )
      .extend('pair', { scope: 'file' }, async ({ database }, { onCleanup }) => {
        const pair = await startTwoInstances(database.url, settings.pair ?? [app, app]);
        onCleanup(async () => {
          for (const instance of pair) await instance.stop();
        });
        return pair;
      })
      // biome-ignore lint/correctness/noEmptyPattern: as above.
      .extend('redis', async ({}, { onCleanup }) => {
        const redis = new Redis(TEST_REDIS_URL);
        onCleanup(() => redis.disconnect());
        return redis;
      })
  );
}

/** The fixtures with default settings: a real `api`, a `pair`, one `database`. */
export const test = integrationTest();
