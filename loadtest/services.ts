import { Cluster, Redis } from 'ioredis';
import postgres from 'postgres';
import type { OwnRedisCluster } from '../test/helpers/redis-cluster.js';

/** Where the load test finds Postgres (an admin connection) and Redis; loopback only. */
export const PG_ADMIN_URL = process.env.LOADTEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.LOADTEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;

/** Refuses any target that is not on this machine: a load test sends traffic to loopback only. */
export function assertLoopback(url: string): void {
  const { hostname } = new URL(url);
  if (!LOOPBACK.test(hostname)) throw new Error(`refusing to load ${url}: only loopback addresses are allowed`);
}

/** The URL of database `name` on the load-test server. */
export function databaseUrl(name: string): string {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A short-lived admin connection (the `postgres` database, so its own transactions never count). */
export function adminSql(): postgres.Sql {
  assertLoopback(PG_ADMIN_URL);
  return postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {}, connect_timeout: 5 });
}

/** A Redis connection for counters and clean-up; fails fast when Redis is down. */
export async function connectRedis(url = REDIS_URL): Promise<Redis> {
  assertLoopback(url);
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000 });
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new Error(`Redis is not reachable at ${url}: ${String(error)}`);
  }
  return redis;
}

/** A cluster connection for counters and clean-up, once it knows every master. */
export async function connectCluster(cluster: OwnRedisCluster): Promise<Cluster> {
  const redis = new Cluster(
    cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
    { lazyConnect: true },
  );
  await redis.connect();
  return redis;
}

/** Fails with a clear message when Postgres or Redis is not there, before anything starts. */
export async function checkServices(): Promise<void> {
  const sql = adminSql();
  try {
    await sql`select 1`;
  } catch (error) {
    throw new Error(`Postgres is not reachable at ${PG_ADMIN_URL}: ${String(error)}`);
  } finally {
    await sql.end({ timeout: 2 });
  }
  const redis = await connectRedis();
  redis.disconnect();
}

/** Waits `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
