import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

/** The Redis the suites use: CRONKEEPER_REDIS_URL, or the local default. */
export const REDIS_URL = process.env.CRONKEEPER_REDIS_URL ?? 'redis://127.0.0.1:6379';

// test/services.setup.ts probes the server once per test run, announces any skip in one line and
// passes the answer down; with CRONKEEPER_*_URL set the suites must run and fail if it is down.
/** Whether the Redis suites run in this process. */
export const redisAvailable: boolean = process.env.CRONKEEPER_REDIS_AVAILABLE !== '0';

/** A new client on the test server; the caller quits it. */
export function connect(options: { connectionName?: string } = {}): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: 2, ...options });
}

/** A key prefix no other test file or suite uses. */
export function uniquePrefix(label: string): string {
  return `{ck-test-${label}-${randomUUID().slice(0, 8)}}`;
}

/** Every key under `prefix` (SCAN on our own prefix only). */
export async function keysUnder(client: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

/** Delete every key under `prefix`. */
export async function deleteKeysUnder(client: Redis, prefix: string): Promise<void> {
  const keys = await keysUnder(client, prefix);
  for (let index = 0; index < keys.length; index += 500)
    await client.unlink(...keys.slice(index, index + 500));
}
