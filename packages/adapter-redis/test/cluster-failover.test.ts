import { randomUUID } from 'node:crypto';
import { redisStore } from '@cronkeeper/adapter-redis';
import type { Job, Run, Store } from '@cronkeeper/core';
import { at, MINUTE, newJob, newRun, SECOND, T0 } from '@cronkeeper/core/testing';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateRedisCluster } from '../../../test/topologies/redis-cluster.js';

// What a Redis Cluster failover costs the store, step by step. Replication is asynchronous: a
// primary answers a write before its replica has it, so a primary that crashes takes its last
// writes with it, and the replica that takes over serves the state from just before them. The
// multi-process scenario (test/chaos/redis-cluster.test.ts) fails over under load; here the
// writes that are lost are chosen, so what the store does about each is exact.

const clusterAvailable = process.env.CRONKEEPER_REDIS_CLUSTER_AVAILABLE !== '0';
const LEASE_MS = 30 * SECOND;

function slotOf(job: Job, slot: Date) {
  return {
    jobId: job.id,
    expectedNextRunAt: slot,
    nextRunAt: new Date(slot.getTime() + MINUTE),
    runs: [
      newRun({
        jobId: job.id,
        jobName: job.name,
        trigger: 'schedule',
        scheduledFor: slot,
        dedupeKey: `${job.id}:${slot.getTime()}`,
      }),
    ],
    now: slot,
  };
}

describe.skipIf(!clusterAvailable)('redis store when a Redis Cluster primary crashes', () => {
  let cluster: PrivateRedisCluster;
  let client: Cluster;
  let store: Store;
  const prefix = `{ck-crash-${randomUUID().slice(0, 8)}}`;

  beforeAll(async () => {
    cluster = await PrivateRedisCluster.start({ masters: 3 });
    client = cluster.client();
    store = redisStore({ redis: client, prefix });
    await store.init();
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    await client?.quit().catch(() => client.disconnect());
    await cluster?.destroy();
  });

  it('serves the state from before the unreplicated writes: a fired and claimed slot fires and runs again, a finished run is running again until its lease lapses', async () => {
    // Replicated before the crash: two jobs, and a run of the second claimed by worker-a.
    const fired = await store.insertJob(newJob({ name: 'fired-in-the-gap', nextRunAt: T0 }));
    const finishing = await store.insertJob(newJob({ name: 'finished-in-the-gap', nextRunAt: T0 }));
    await store.fireSlots([slotOf(finishing, T0)]);
    const { claimed: before } = await store.claimRuns({
      workerId: 'worker-a',
      now: T0,
      limit: 1,
      leaseMs: LEASE_MS,
    });
    const finishingRun = before[0] as Run;
    expect(finishingRun.jobId).toBe(finishing.id);

    // Acknowledged by the primary, never replicated: the first job's slot fired and claimed by
    // worker-a, and the second job's run finished.
    let lostRun: Run | undefined;
    const moved = await cluster.crashPrimaryAfter(prefix, async () => {
      const [result] = await store.fireSlots([slotOf(fired, T0)]);
      expect(result?.advanced).toBe(true);
      const { claimed } = await store.claimRuns({
        workerId: 'worker-a',
        now: T0,
        limit: 1,
        leaseMs: LEASE_MS,
      });
      lostRun = claimed[0];
      expect(lostRun?.jobId).toBe(fired.id);
      const [finished] = await store.finishRuns([
        {
          runId: finishingRun.id,
          fence: { workerId: 'worker-a' },
          now: at(SECOND),
          status: 'succeeded',
          result: 'done',
          error: null,
        },
      ]);
      expect(finished?.status).toBe('succeeded');
    });
    expect(moved.to).not.toBe(moved.from);

    // The fired slot: its run is gone and the job is due at that slot again, so the slot fires
    // again and another worker runs it a second time.
    expect(await store.getRun((lostRun as Run).id)).toBeNull();
    expect((await store.getJob(fired.id))?.nextRunAt).toEqual(T0);
    const [again] = await store.fireSlots([slotOf(fired, T0)]);
    expect(again?.created.map((run) => run.scheduledFor)).toEqual([T0]);
    const { claimed: rerun } = await store.claimRuns({
      workerId: 'worker-b',
      now: at(2 * SECOND),
      limit: 1,
      leaseMs: LEASE_MS,
    });
    expect(rerun.map((run) => [run.jobId, run.scheduledFor])).toEqual([[fired.id, T0]]);
    // worker-a's finish of the lost run is refused: nothing of it exists any more.
    const [late] = await store.finishRuns([
      {
        runId: (lostRun as Run).id,
        fence: { workerId: 'worker-a' },
        now: at(3 * SECOND),
        status: 'succeeded',
        result: null,
        error: null,
      },
    ]);
    expect(late).toBeNull();

    // The finished run: running again under worker-a's lease, which nobody renews, so recovery
    // finds it when the lease lapses (and fails it as stale, or retries it): it ran once but is
    // not recorded as succeeded.
    const resurrected = await store.getRun(finishingRun.id);
    expect(resurrected).toMatchObject({ status: 'running', workerId: 'worker-a' });
    expect(await store.findExpiredLeases({ now: at(LEASE_MS - SECOND), limit: 10 })).toEqual([]);
    const expired = await store.findExpiredLeases({ now: at(LEASE_MS + SECOND), limit: 10 });
    expect(expired.map((run) => run.id)).toEqual([finishingRun.id]);
  }, 60_000);
});
