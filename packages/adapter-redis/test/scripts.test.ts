import { redisStore } from '@cronkeeper/adapter-redis';
import type { Store } from '@cronkeeper/core';
import { at, newJob, newRun, SECOND, T0 } from '@cronkeeper/core/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNewRun } from '../src/codec.js';
import { KeyLayout } from '../src/keys.js';
import { SCRIPTS } from '../src/scripts.js';
import { checkIndexes } from './invariants.js';
import { PrivateRedis, redisServerAvailable } from './redis-server.js';

const prefix = '{ck-scripts}';
const shas = Object.values(SCRIPTS).map((script) => script.sha);

// SCRIPT FLUSH empties the whole server's script cache, so these tests use a server of their own.
describe.skipIf(!redisServerAvailable)('redis store scripts', () => {
  let server: PrivateRedis;
  let client: Redis;
  let store: Store;

  beforeAll(async () => {
    server = await PrivateRedis.start({ appendonly: false });
    client = new Redis(server.url, { maxRetriesPerRequest: 2 });
    store = redisStore({ redis: client, prefix });
  });

  afterAll(async () => {
    await store?.close();
    await client?.quit();
    await server?.destroy();
  });

  it('loads every script once in init(), so later calls go by SHA', async () => {
    await client.call('script', 'flush');
    await store.init();
    expect(await client.call('script', 'exists', ...shas)).toEqual(shas.map(() => 1));
  });

  it('runs each lifecycle step after the script cache was flushed (NOSCRIPT), and caches the script again', async () => {
    await store.init();
    const job = await store.insertJob(newJob({ nextRunAt: T0 }));
    const [fired] = await store.fireSlots([
      {
        jobId: job.id,
        expectedNextRunAt: T0,
        nextRunAt: at(60 * SECOND),
        runs: [
          newRun({
            jobId: job.id,
            jobName: job.name,
            trigger: 'schedule',
            scheduledFor: T0,
            dedupeKey: `${job.id}:${T0.getTime()}`,
          }),
        ],
        now: T0,
      },
    ]);
    expect(fired?.advanced).toBe(true);

    await client.call('script', 'flush');
    const claimed = await store.claimRuns({
      workerId: 'w1',
      now: at(SECOND),
      limit: 5,
      leaseMs: 30 * SECOND,
    });
    expect(claimed.claimed.map((run) => run.id)).toEqual(fired?.created.map((run) => run.id));
    expect(await client.call('script', 'exists', SCRIPTS.claimRuns.sha)).toEqual([1]);

    await client.call('script', 'flush');
    const finished =
      (
        await store.finishRuns([
          {
            runId: claimed.claimed[0]?.id as string,
            fence: { workerId: 'w1' },
            now: at(2 * SECOND),
            status: 'succeeded',
            result: { ok: true },
            error: null,
          },
        ])
      )[0] ?? null;
    expect(finished?.status).toBe('succeeded');
    expect((await store.getJob(job.id))?.runCount).toBe(1);
    expect(await checkIndexes(client, prefix)).toEqual([]);
  });

  it('claims, in finishAndClaim, a retry its finish created due at once, and leaves every index consistent', async () => {
    await store.init();
    const job = await store.insertJob(newJob({ overlap: 'allow', nextRunAt: null }));
    const created = await store.createRun({
      run: newRun({ jobId: job.id, jobName: job.name, overlap: 'allow', runAt: T0 }),
      now: T0,
      rejectIfActive: false,
    });
    const [failing] = (await store.claimRuns({ workerId: 'w1', now: T0, limit: 1, leaseMs: 30 * SECOND }))
      .claimed;
    expect(failing?.id).toBe(created.run.id);
    const now = at(SECOND);
    const result = await store.finishAndClaim({
      finishes: [
        {
          runId: created.run.id,
          fence: { workerId: 'w1' },
          now,
          status: 'failed',
          result: null,
          error: { code: 'error', message: 'boom' },
          followUp: newRun({
            jobId: job.id,
            jobName: job.name,
            overlap: 'allow',
            trigger: 'retry',
            attempt: 2,
            runAt: now,
            parentRunId: created.run.id,
          }),
        },
      ],
      claim: { workerId: 'w1', now, limit: 5, leaseMs: 30 * SECOND },
    });
    expect(result.finished.map((run) => run?.status)).toEqual(['failed']);
    // One script added the retry to the pending indexes and moved it to the running ones.
    expect(result.claimed).toMatchObject([
      { trigger: 'retry', parentRunId: created.run.id, status: 'running' },
    ]);
    const keys = new KeyLayout(prefix);
    const retryId = (result.claimed[0] as { id: string }).id;
    expect(await client.zscore(keys.pendingRuns, retryId)).toBeNull();
    expect(await client.zscore(keys.leases, retryId)).not.toBeNull();
    expect(await checkIndexes(client, prefix)).toEqual([]);
  });

  it('answers a repeated call (the same request, as ioredis re-sends after a reconnect) from its record instead of acting twice', async () => {
    await store.init();
    const keys = new KeyLayout(prefix);
    const before = await client.zcard(keys.history);
    const request = `${keys.root}requests:replay-test`;
    const call = (id: string) => {
      const fields = encodeNewRun(newRun(), id);
      return client.call(
        'evalsha',
        SCRIPTS.createRun.sha,
        2,
        keys.root,
        request,
        id,
        T0.getTime(),
        '0',
        '',
        '',
        fields.length,
        ...fields,
        '0',
      );
    };
    // A re-sent command carries the same run id and fields, which is what the caller reads a
    // created run from; here the second call differs only to show it created nothing.
    expect(await call('11111111-aaaa')).toEqual(['created']);
    expect(await call('22222222-bbbb')).toEqual(['created']);
    expect(await client.exists(keys.run('11111111-aaaa'))).toBe(1);
    expect(await client.exists(keys.run('22222222-bbbb'))).toBe(0);
    expect(await client.zcard(keys.history)).toBe(before + 1);
    expect(await client.pttl(request)).toBeGreaterThan(50_000);
  });

  it('publishes the announcement of a created run once when the same request is sent again', async () => {
    await store.init();
    const keys = new KeyLayout(prefix);
    const subscriber = client.duplicate();
    const heard: string[] = [];
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === keys.channel) heard.push(message);
    });
    await subscriber.subscribe(keys.channel);
    const request = `${keys.root}requests:replay-announce`;
    const call = (id: string) => {
      const fields = encodeNewRun(newRun({ tenantId: 'acme' }), id);
      const message = JSON.stringify({
        type: 'run',
        origin: 'a',
        runId: id,
        status: 'pending',
        tenantId: 'acme',
      });
      return client.call(
        'evalsha',
        SCRIPTS.createRun.sha,
        2,
        keys.root,
        request,
        id,
        T0.getTime(),
        '0',
        keys.channel,
        message,
        fields.length,
        ...fields,
        '0',
      );
    };
    try {
      await call('33333333-cccc');
      await call('44444444-dddd');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(heard.map((message) => JSON.parse(message).runId)).toEqual(['33333333-cccc']);
    } finally {
      await subscriber.quit();
    }
  });
});
