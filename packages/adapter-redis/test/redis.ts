import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

/** The Redis the suites use: CRONKEEPER_REDIS_URL, or the local default. */
export const REDIS_URL = process.env.CRONKEEPER_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function probe(): Promise<boolean> {
  // With the variable set the suites must run, and fail loudly if the server is down.
  if (process.env.CRONKEEPER_REDIS_URL) return true;
  // Already probed (and any skip announced) once for the whole run by test/services.setup.ts.
  const probed = process.env.CRONKEEPER_REDIS_AVAILABLE;
  if (probed !== undefined) return probed === '1';
  const client = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 500,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch {
    console.log(
      `[cronkeeper] Redis not reachable at ${new URL(REDIS_URL).host}: adapter-redis suites skipped (set CRONKEEPER_REDIS_URL to require them)`,
    );
    return false;
  } finally {
    client.disconnect();
  }
}

/** Whether the Redis suites run in this process (probed once per test file). */
export const redisAvailable: boolean = await probe();

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
