import { describe, expect, it } from 'vitest';
import type { Store } from '../store.js';
import type { Job, Run } from '../types.js';
import type { ContractFixture } from './harness.js';
import { at, MINUTE, newJob, newRun, T0 } from './records.js';
import { LEASE_MS, startRun } from './steps.js';

/** init(), capabilities, and the rule that stores hand out copies, never their own state. */
export function lifecycleContract(fixture: () => ContractFixture): void {
  describe('lifecycle', () => {
    it('declares its capabilities as data', () => {
      const { store } = fixture();
      expect(typeof store.capabilities.subscribe).toBe('boolean');
    });

    it('init() is idempotent on one instance', async () => {
      const { store } = fixture();
      await store.init();
      await store.init();
      const job = await store.insertJob(newJob());
      expect(await store.getJob(job.id)).toEqual(job);
    });

    it('init() is safe when several instances run it at once', async () => {
      const stores = await Promise.all([
        fixture().uninitialised(),
        fixture().uninitialised(),
        fixture().uninitialised(),
      ]);
      await Promise.all(stores.map((store) => store.init()));
      await Promise.all(stores.map((store) => store.init()));
      const job = await (stores[0] as Store).insertJob(newJob());
      for (const store of stores) expect(await store.getJob(job.id)).toEqual(job);
    });
  });

  describe('returned objects are copies', () => {
    it('mutating a returned job or the input does not change the stored job', async () => {
      const { store } = fixture();
      const input = newJob({ params: { depth: { level: 1 } }, metadata: { tags: ['a'] } });
      const job = await store.insertJob(input);
      const snapshot = structuredClone(job);
      job.name = 'mutated';
      (job.params.depth as { level: number }).level = 99;
      (job.metadata.tags as string[]).push('b');
      job.nextRunAt?.setTime(0);
      (job.tasks[0] as { executor: string }).executor = 'mutated';
      input.tasks.push({ executor: 'extra', enabled: true, params: {} });
      input.nextRunAt?.setTime(1);
      (input.params.depth as { level: number }).level = 7;
      expect(await store.getJob(snapshot.id)).toEqual(snapshot);
      const read = (await store.getJob(snapshot.id)) as Job;
      read.params.extra = true;
      read.updatedAt.setTime(0);
      expect(await store.getJob(snapshot.id)).toEqual(snapshot);
      const [listed] = await store.listJobs({});
      expect(listed).toEqual(snapshot);
      (listed as { name: string }).name = 'again';
      expect(await store.findJobByName(null, snapshot.name)).toEqual(snapshot);
    });

    it('mutating a returned run or the input does not change the stored run', async () => {
      const { store } = fixture();
      const input = {
        run: newRun({ params: { list: [1, 2] }, runAt: T0 }),
        now: T0,
        rejectIfActive: false,
      };
      const created = await store.createRun(input);
      const snapshot = structuredClone(created.run);
      created.run.status = 'failed';
      (created.run.params.list as number[]).push(3);
      created.run.runAt.setTime(0);
      input.run.tasks.length = 0;
      input.run.createdAt.setTime(5);
      expect(await store.getRun(snapshot.id)).toEqual(snapshot);
      const read = (await store.getRun(snapshot.id)) as Run;
      read.tasks.length = 0;
      read.createdAt.setTime(0);
      expect(await store.getRun(snapshot.id)).toEqual(snapshot);
      const page = await store.listRuns({ limit: 10 });
      expect(page.items).toEqual([snapshot]);
      (page.items[0] as { status: string }).status = 'failed';
      expect(await store.getRun(snapshot.id)).toEqual(snapshot);
    });

    it('mutating claimed runs does not change the running run', async () => {
      const { store } = fixture();
      const running = await startRun(store, { runAt: T0 });
      const snapshot = structuredClone(running);
      running.workerId = 'intruder';
      running.leaseUntil?.setTime(0);
      expect(await store.getRun(snapshot.id)).toEqual(snapshot);
      const renewed = await store.renewLease({
        runId: snapshot.id,
        workerId: 'worker-1',
        now: at(MINUTE / 2),
        leaseMs: LEASE_MS,
      });
      expect(renewed.ok).toBe(true);
    });
  });
}
