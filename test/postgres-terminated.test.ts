import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import { createDatabase } from '../src/db/client.js';
import { test as it } from './helpers/fixtures.js';

// A fault drill (`npm run loadtest -- drill --nemesis pg-terminate`) found API instances exiting when
// their Postgres backends were terminated: postgres.js 3.4.9 buffers a small write for the next tick,
// and when the connection has closed by then it calls write on a null socket from a setImmediate, an
// exception no caller can catch (porsager/postgres#1208). patches/postgres+3.4.9.patch fails the
// connection's queries instead. Without it, this file's worker process dies.

it('a transaction whose backend is terminated fails with CONNECTION_CLOSED, the process lives, and the pool serves the next query', async ({
  database,
}) => {
  const { db, close } = await createDatabase({ url: database.url, poolSize: 2 });
  try {
    const failed = await db
      .transaction(async (tx) => {
        const [row] = (await tx.execute(sql`select pg_backend_pid() as pid`)) as unknown as Array<{ pid: number }>;
        await database.sql`select pg_terminate_backend(${row?.pid ?? 0})`;
        await new Promise((resolve) => setTimeout(resolve, 200));
        await tx.execute(sql`select 1`);
      })
      .then(
        () => null,
        (error: { code?: string }) => error.code ?? String(error),
      );
    expect(failed).toMatch(/CONNECTION_CLOSED|57P01/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const [after] = (await db.execute(sql`select 1 as one`)) as unknown as Array<{ one: number }>;
    expect(after?.one).toBe(1);
  } finally {
    await close();
  }
});
