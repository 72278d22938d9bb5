import type { SQL } from 'drizzle-orm';
import { type Db, executeRows } from '../../src/db/client.js';

/** Runs raw SQL on either driver and returns its rows (postgres.js returns an array, PGlite `{ rows }`). */
export function rows<T extends Record<string, unknown>>(db: Db, query: SQL): Promise<T[]> {
  return executeRows<T>(db, query);
}
