/**
 * `npx tsx loadtest/pg-ramp.ts [pool sizes, e.g. 10,5] [rounds]`: how long pools take to serve at
 * full rate again after Postgres ends every backend at once (the drill's pg-terminate), per pool size.
 *
 * Two pools (two API instances) of each size, made with the product's own reconnect backoff, run 24
 * closed loops of a two-statement transaction (lock a ticket row, conditional update) on a fresh
 * database of 10,000 seats. After 4 s every backend is terminated; the rate is printed per 250 ms
 * tick (labelled by when it ended, from the termination), and the first whole tick after it at
 * ≥ 90 % of the 2 s before is named. No API
 * process, no Redis: only the pool and Postgres, so what is left is the cost of new backends.
 */
import postgres from 'postgres';
import { reconnectDelaySeconds } from '../src/db/client.js';
import { createLoadDatabase, seedSale } from './database.js';
import { adminSql, sleep } from './services.js';

const LOOPS = 24;
const TICK_MS = 250;

async function ramp(url: string, name: string, poolSize: number, eventId: string): Promise<string> {
  const pools = [0, 1].map(() => postgres(url, { max: poolSize, backoff: reconnectDelaySeconds, onnotice: () => {} }));
  const first = pools[0] as postgres.Sql;
  const ids = (await first<{ id: string }[]>`select id from tickets where event_id = ${eventId} limit 2000`).map(
    (row) => row.id,
  );
  const work = (sql: postgres.Sql) => {
    const id = ids[Math.floor(Math.random() * ids.length)] ?? '';
    return sql.begin(async (tx) => {
      await tx`select t.id, t.status, t.version from tickets t join events e on e.id = t.event_id where t.id = ${id} for update of t`;
      await tx`update tickets set version = version where id = ${id} and status = 'AVAILABLE'`;
    });
  };
  let done = 0;
  let running = true;
  const loops = Array.from({ length: LOOPS }, async (_, i) => {
    const sql = pools[i % pools.length] as postgres.Sql;
    while (running)
      await work(sql).then(
        () => done++,
        () => {},
      );
  });
  const series: number[] = [];
  const tick = setInterval(() => {
    series.push(done);
    done = 0;
  }, TICK_MS);
  await sleep(4000);
  const at = series.length;
  const admin = adminSql();
  try {
    await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name}`;
  } finally {
    await admin.end({ timeout: 2 });
  }
  await sleep(4000);
  running = false;
  clearInterval(tick);
  await Promise.all(loops);
  await Promise.all(pools.map((pool) => pool.end({ timeout: 2 })));
  const before = series.slice(at - 8, at).reduce((sum, n) => sum + n, 0) / 8;
  // Tick `at` was under way when the backends were ended; tick at + k ends ~k × 250 ms after.
  const back = series.findIndex((n, i) => i > at && n >= 0.9 * before);
  const shown = series.slice(at - 2).map((n, i) => `${(i - 2) * TICK_MS}:${Math.round((100 * n) / before)}%`);
  return `pool ${poolSize}: ${Math.round(before)} transactions per ${TICK_MS} ms before; back to ≥ 90 % in the tick ending ${back < 0 ? 'never' : `${(back - at) * TICK_MS} ms after`}; ${shown.join(' ')}`;
}

async function main(): Promise<void> {
  const sizes = (process.argv[2] ?? '10,5').split(',').map(Number);
  const rounds = Number(process.argv[3] ?? 2);
  const database = await createLoadDatabase(`pg_ramp_${process.pid}`);
  try {
    const { eventId } = await seedSale(database.url, 10_000, { name: 'Ramp' });
    for (let round = 0; round < rounds; round++)
      for (const size of sizes) console.log(await ramp(database.url, database.name, size, eventId));
  } finally {
    await database.drop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
