import type { SQL } from 'drizzle-orm';
import type { Db } from '../../src/db/client.js';

/** Runs raw SQL on either driver and returns its rows (postgres.js returns an array, PGlite `{ rows }`). */
export async function rows<T extends Record<string, unknown>>(db: Db, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown;
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}
