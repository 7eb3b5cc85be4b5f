import { cpus, loadavg, totalmem } from 'node:os';
import { Redis } from 'ioredis';
import pg from 'pg';

/**
 * Where the services are. The benchmark works in a database of its own (created and dropped here)
 * and in its own Redis DB under its own key prefixes, so it never touches anyone else's data.
 */
export const PG_ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const BENCH_DB = process.env.BENCH_PG_DATABASE ?? 'cronkeeper_bench';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const REDIS_DB = Number(process.env.BENCH_REDIS_DB ?? 15);
/** Every Redis key the benchmark writes starts with this (BullMQ's and Cronkeeper's alike). */
export const REDIS_KEY_ROOT = 'ckbench';

/** Connection string of the benchmark's own database. */
export function benchDatabaseUrl(): string {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${BENCH_DB}`;
  return url.toString();
}

/** A pool on the benchmark database; `applicationName` lets W6 find its server backends. */
export function newPool(max = 10, applicationName?: string): pg.Pool {
  return new pg.Pool({
    connectionString: benchDatabaseUrl(),
    max,
    ...(applicationName ? { application_name: applicationName } : {}),
  });
}

export function newRedis(): Redis {
  // `maxRetriesPerRequest: null` is what BullMQ workers require; harmless for the others.
  return new Redis(REDIS_URL, { db: REDIS_DB, maxRetriesPerRequest: null });
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Which services answer; a missing one turns its rows into "skipped" rather than failing the run. */
export interface Services {
  postgres: boolean;
  redis: boolean;
}

export async function probeServices(): Promise<Services> {
  const postgres = await adminQuery('select 1').then(
    () => true,
    () => false,
  );
  const redis = new Redis(REDIS_URL, { db: REDIS_DB, lazyConnect: true, maxRetriesPerRequest: 0 });
  redis.on('error', () => {});
  const redisUp = await redis.connect().then(
    () => redis.ping().then(() => true),
    () => false,
  );
  redis.disconnect();
  return { postgres, redis: redisUp };
}

/** A fresh benchmark database (a leftover from an interrupted run is dropped first). */
export async function createBenchDatabase(): Promise<void> {
  await adminQuery(`drop database if exists ${BENCH_DB} with (force)`);
  await adminQuery(`create database ${BENCH_DB}`);
}

export async function dropBenchDatabase(): Promise<void> {
  await adminQuery(`drop database if exists ${BENCH_DB} with (force)`);
}

/** Drop one schema of the benchmark database (each system under test gets its own). */
export async function dropSchema(schema: string): Promise<void> {
  const pool = newPool(1);
  try {
    await pool.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await pool.end();
  }
}

/** Delete the Redis keys under `pattern` (SCAN, never FLUSHDB: the server is shared). */
export async function deleteRedisKeys(pattern: string): Promise<void> {
  const redis = newRedis();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** The machine and software the figures come from. */
export async function machineInfo(): Promise<Record<string, string | number>> {
  const pool = newPool(1);
  const redis = newRedis();
  const pgVersion = await pool.query<{ server_version: string }>('show server_version').then(
    (result) => result.rows[0]?.server_version ?? '?',
    () => 'unavailable',
  );
  const redisVersion = await redis.info('server').then(
    (info) => /redis_version:(\S+)/.exec(info)?.[1] ?? '?',
    () => 'unavailable',
  );
  await pool.end();
  redis.disconnect();
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    // The 1-minute load average before the run: whether other work shared the machine.
    loadBefore: Number(loadavg()[0]?.toFixed(1) ?? 0),
    node: process.version,
    postgres: pgVersion,
    redis: redisVersion,
  };
}
