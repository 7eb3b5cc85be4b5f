import { redisStore } from '@cronkeeper/adapter-redis';
import type { RunLogLine, Store } from '@cronkeeper/core';
import { at, newJob, newRun, SECOND } from '@cronkeeper/core/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateRedis, redisServerAvailable } from './redis-server.js';

/**
 * The memory figures docs/redis.md gives, kept honest: a job and a finished run must stay within
 * these budgets (about 1.3 times what was measured). Set CRONKEEPER_MEMORY_REPORT=1 to print the
 * measurements. A server of the test's own keeps other clients from moving `used_memory`.
 */
const JOB_BUDGET = 2_200;
const RUN_BUDGET = 5_200;
/** With `hash-max-listpack-value 1024`. */
const TUNED_RUN_BUDGET = 3_000;
const JOBS = 500;
const RUNS = 2_000;
const prefix = '{cronkeeper}';
const report = process.env.CRONKEEPER_MEMORY_REPORT === '1';

async function usedMemory(client: Redis): Promise<number> {
  const match = /used_memory:(\d+)/.exec(await client.info('memory'));
  if (!match) throw new Error('INFO memory has no used_memory');
  return Number(match[1]);
}

/** Drop the replay records of script calls, as their expiry a minute later would; returns how many. */
async function dropRequestRecords(client: Redis): Promise<number> {
  let cursor = '0';
  let dropped = 0;
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:requests:*`, 'COUNT', 1000);
    if (keys.length > 0) dropped += await client.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  return dropped;
}

const LOGS: RunLogLine[] = [
  { at: at(0), level: 'info', message: 'fetched 42 invoices' },
  { at: at(SECOND), level: 'info', message: 'synchronised 42 invoices' },
];

describe.skipIf(!redisServerAvailable)('redis store memory', () => {
  let server: PrivateRedis;
  let client: Redis;
  let store: Store;
  const jobIds: string[] = [];
  let defaultPerRun = Number.NaN;

  beforeAll(async () => {
    server = await PrivateRedis.start({ appendonly: false });
    client = new Redis(server.url);
    store = redisStore({ redis: client, prefix });
    await store.init();
  });

  afterAll(async () => {
    await store?.close();
    client?.disconnect();
    await server?.destroy();
  });

  it('keeps a job (hash and index entries) within its documented budget', async () => {
    const before = await usedMemory(client);
    for (let index = 0; index < JOBS; index++) {
      const job = await store.insertJob(
        newJob({
          name: `sync-invoices-${index}`,
          tenantId: index % 2 ? 'acme' : null,
          params: { limit: 100 },
        }),
      );
      jobIds.push(job.id);
    }
    await dropRequestRecords(client);
    const perJob = ((await usedMemory(client)) - before) / JOBS;
    const hash = await client.call('memory', 'usage', `${prefix}:job:${jobIds[0]}`, 'SAMPLES', '0');
    if (report) console.info(`job: hash ${hash} B (MEMORY USAGE); with indexes ${Math.round(perJob)} B each`);
    expect(perJob).toBeLessThan(JOB_BUDGET);
  });

  /** Create, claim and finish `RUNS` runs; returns bytes per finished run once replay records expired. */
  async function measureRuns(offset: number): Promise<{ perRun: number; hash: unknown; perCall: number }> {
    const before = await usedMemory(client);
    let lastId = '';
    for (let index = offset; index < offset + RUNS; index++) {
      const jobId = jobIds[index % JOBS] as string;
      const now = at(index * SECOND);
      await store.createRun({
        run: newRun({
          jobId,
          jobName: `sync-invoices-${index % JOBS}`,
          trigger: 'schedule',
          scheduledFor: now,
          runAt: now,
          createdAt: now,
          dedupeKey: `${jobId}:${now.getTime()}`,
          concurrencyKey: `job:${jobId}`,
          overlap: 'skip',
          params: { limit: 100 },
        }),
        now,
        rejectIfActive: false,
      });
      const [run] = (await store.claimRuns({ workerId: 'worker-1', now, limit: 1, leaseMs: 30 * SECOND }))
        .claimed;
      const finished =
        (
          await store.finishRuns([
            {
              runId: run?.id as string,
              fence: { workerId: 'worker-1' },
              now: new Date(now.getTime() + 500),
              status: 'succeeded',
              result: { ok: true, invoices: 42 },
              error: null,
              logs: LOGS,
            },
          ])
        )[0] ?? null;
      expect(finished?.status).toBe('succeeded');
      lastId = finished?.id as string;
    }
    const withRecords = await usedMemory(client);
    const records = await dropRequestRecords(client);
    expect(records).toBe(RUNS * 3);
    const after = await usedMemory(client);
    return {
      perRun: (after - before) / RUNS,
      hash: await client.call('memory', 'usage', `${prefix}:run:${lastId}`, 'SAMPLES', '0'),
      perCall: (withRecords - after) / records,
    };
  }

  it('keeps a finished run (hash, history and finished indexes) within its documented budget', async () => {
    const { perRun, hash, perCall } = await measureRuns(0);
    if (report) {
      console.info(`finished run: hash ${hash} B (MEMORY USAGE); with indexes ${Math.round(perRun)} B each`);
      console.info(`replay record per script call (kept 60 s): ${Math.round(perCall)} B`);
    }
    expect(perRun).toBeLessThan(RUN_BUDGET);
    defaultPerRun = perRun;
  });

  it('costs far less per run when hash-max-listpack-value lets run hashes stay listpacks', async () => {
    await client.call('config', 'set', 'hash-max-listpack-value', '1024');
    const { perRun, hash } = await measureRuns(RUNS);
    if (report)
      console.info(
        `finished run, listpack: hash ${hash} B (MEMORY USAGE); with indexes ${Math.round(perRun)} B each`,
      );
    expect(perRun).toBeLessThan(TUNED_RUN_BUDGET);
    expect(perRun).toBeLessThan(defaultPerRun * 0.7);
  });
});
