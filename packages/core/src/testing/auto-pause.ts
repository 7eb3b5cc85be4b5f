import { describe, expect, it } from 'vitest';
import { autoPauseNote, type FinishRunInput, type Store } from '../store.js';
import type { Job, Run } from '../types.js';
import type { ContractFixture } from './harness.js';
import { at, MINUTE, newJob, newRunOf, SECOND, T0 } from './records.js';
import { LEASE_MS, ofJob, startRun } from './steps.js';

const failure = { code: 'error', message: 'boom' };

/** A failed (or other) finish of a running run by its worker. */
function finishing(
  run: Run,
  status: FinishRunInput['status'],
  now: Date,
  extra: Partial<FinishRunInput> = {},
) {
  return {
    runId: run.id,
    fence: { workerId: run.workerId ?? 'worker-1' },
    now,
    status,
    result: null,
    error: status === 'failed' ? failure : null,
    ...extra,
  } satisfies FinishRunInput;
}

async function jobOf(store: Store, job: Job): Promise<Job> {
  return (await store.getJob(job.id)) as Job;
}

/** `autoPause`: finishRuns counts failed runs in a row and pauses the job, once, in the same step. */
export function autoPauseContract(fixture: () => ContractFixture): void {
  describe('auto-pause in finishRuns', () => {
    it('pauses the job at the configured count of final failures, in the finishing step, and says so once', async () => {
      const { store } = fixture();
      const job = await store.insertJob(
        newJob({ name: 'flaky', overlap: 'allow', autoPause: { afterFailures: 2 }, nextRunAt: at(MINUTE) }),
      );
      const first = await startRun(store, ofJob(job), { now: at(SECOND) });
      const [one] = await store.finishRuns([finishing(first, 'failed', at(2 * SECOND))]);
      expect(one?.status).toBe('failed');
      expect(one?.pausedJob).toBeUndefined();
      expect(await jobOf(store, job)).toMatchObject({ enabled: true, consecutiveFailures: 1, version: 1 });

      const second = await startRun(store, ofJob(job), { now: at(3 * SECOND) });
      const now = at(4 * SECOND);
      const [two] = await store.finishRuns([finishing(second, 'failed', now)]);
      expect(two).toMatchObject({ id: second.id, status: 'failed', pausedJob: true });
      const paused = await jobOf(store, job);
      expect(paused).toMatchObject({
        enabled: false,
        nextRunAt: null,
        pausedNote: autoPauseNote(2),
        consecutiveFailures: 2,
        version: 2,
        updatedAt: now,
        errorCount: 2,
        lastStatus: 'failed',
      });
      expect(await store.findDueJobs({ now: at(MINUTE), limit: 10 })).toEqual([]);
      const { items } = await store.listAudit({ limit: 10 });
      expect(items.map(({ id: _id, ...entry }) => entry)).toEqual([
        {
          at: now,
          actor: null,
          action: 'paused',
          job: 'flaky',
          tenantId: null,
          before: { enabled: true, pausedNote: null },
          after: { enabled: false, pausedNote: autoPauseNote(2) },
          note: autoPauseNote(2),
        },
      ]);

      // Already paused: further failures are counted, nobody is told again.
      const third = await startRun(store, ofJob(job), { now: at(5 * SECOND) });
      const [three] = await store.finishRuns([finishing(third, 'failed', at(6 * SECOND))]);
      expect(three?.pausedJob).toBeUndefined();
      expect(await jobOf(store, job)).toMatchObject({ enabled: false, consecutiveFailures: 3, version: 2 });
      expect((await store.listAudit({ limit: 10 })).items).toHaveLength(1);
    });

    it('a success resets the count; cancelled runs and failures that will be retried leave it', async () => {
      const { store } = fixture();
      const job = await store.insertJob(newJob({ overlap: 'allow', autoPause: { afterFailures: 2 } }));
      const run = (offset: number) => startRun(store, ofJob(job), { now: at(offset) });
      await store.finishRuns([finishing(await run(1), 'failed', at(2))]);
      await store.finishRuns([finishing(await run(3), 'succeeded', at(4))]);
      expect((await jobOf(store, job)).consecutiveFailures).toBe(0);
      await store.finishRuns([finishing(await run(5), 'failed', at(6))]);
      await store.finishRuns([finishing(await run(7), 'cancelled', at(8), { error: null })]);
      const retried = await run(9);
      const [withRetry] = await store.finishRuns([
        finishing(retried, 'failed', at(10), {
          followUp: newRunOf(job, {
            trigger: 'retry',
            attempt: 2,
            runAt: at(MINUTE),
            parentRunId: retried.id,
          }),
        }),
      ]);
      expect(withRetry?.pausedJob).toBeUndefined();
      expect(await jobOf(store, job)).toMatchObject({ enabled: true, consecutiveFailures: 1, errorCount: 3 });
    });

    it('counts failed runs in a row across a batch: a success in the batch restarts the count', async () => {
      const { store } = fixture();
      const job = await store.insertJob(newJob({ overlap: 'allow', autoPause: { afterFailures: 3 } }));
      const runs: Run[] = [];
      for (let index = 0; index < 4; index++)
        runs.push(await startRun(store, ofJob(job), { now: at(index) }));
      const [a, b, c, d] = runs as [Run, Run, Run, Run];
      const finished = await store.finishRuns([
        finishing(a, 'failed', at(10)),
        finishing(b, 'failed', at(10)),
        finishing(c, 'succeeded', at(10)),
        finishing(d, 'failed', at(10)),
      ]);
      expect(finished.map((run) => run?.pausedJob)).toEqual([undefined, undefined, undefined, undefined]);
      expect(await jobOf(store, job)).toMatchObject({ enabled: true, consecutiveFailures: 1 });
      const more = [
        await startRun(store, ofJob(job), { now: at(20) }),
        await startRun(store, ofJob(job), { now: at(21) }),
      ];
      const last = await store.finishRuns(more.map((run) => finishing(run, 'failed', at(30))));
      expect(last.map((run) => run?.pausedJob)).toEqual([undefined, true]);
      expect(await jobOf(store, job)).toMatchObject({ enabled: false, consecutiveFailures: 3 });
    });

    it('recovery of a lapsed lease counts as a failure', async () => {
      const { store } = fixture();
      const job = await store.insertJob(newJob({ autoPause: { afterFailures: 1 } }));
      const run = await startRun(store, ofJob(job), { now: T0 });
      const [recovered] = await store.finishRuns([
        {
          runId: run.id,
          fence: 'expired',
          now: at(LEASE_MS + 1),
          status: 'failed',
          result: null,
          error: { code: 'stale', message: 'worker vanished' },
        },
      ]);
      expect(recovered?.pausedJob).toBe(true);
      expect(await jobOf(store, job)).toMatchObject({ enabled: false, pausedNote: autoPauseNote(1) });
    });

    it('never pauses a job without autoPause, whatever it counts', async () => {
      const { store } = fixture();
      const job = await store.insertJob(newJob({ overlap: 'allow' }));
      for (let index = 0; index < 5; index++) {
        const run = await startRun(store, ofJob(job), { now: at(index * 10) });
        const [finished] = await store.finishRuns([finishing(run, 'failed', at(index * 10 + 1))]);
        expect(finished?.pausedJob).toBeUndefined();
      }
      expect(await jobOf(store, job)).toMatchObject({ enabled: true, consecutiveFailures: 5, version: 1 });
      expect((await store.listAudit({ limit: 10 })).items).toEqual([]);
    });

    it('of failures finished at once on several instances exactly one pauses the job', async () => {
      const { store } = fixture();
      const stores = await fixture().instances(3);
      const job = await store.insertJob(newJob({ overlap: 'allow', autoPause: { afterFailures: 3 } }));
      const runs: Run[] = [];
      for (let index = 0; index < 9; index++)
        runs.push(await startRun(store, ofJob(job), { now: at(index), workerId: `worker-${index}` }));
      const finished = await Promise.all(
        runs.map((run, index) =>
          (stores[index % stores.length] as Store).finishRuns([finishing(run, 'failed', at(100))]),
        ),
      );
      const pausers = finished.flat().filter((run) => run?.pausedJob === true);
      expect(pausers).toHaveLength(1);
      expect(await jobOf(store, job)).toMatchObject({ enabled: false, consecutiveFailures: 9, version: 2 });
      expect((await store.listAudit({ limit: 10 })).items.map((entry) => entry.action)).toEqual(['paused']);
    });

    it('updateJob can reset the count (as resume does)', async () => {
      const { store } = fixture();
      const job = await store.insertJob(newJob({ autoPause: { afterFailures: 1 } }));
      const run = await startRun(store, ofJob(job), { now: T0 });
      await store.finishRuns([finishing(run, 'failed', at(1))]);
      const resumed = await store.updateJob({
        id: job.id,
        expectedVersion: 2,
        patch: { enabled: true, pausedNote: null, consecutiveFailures: 0, nextRunAt: at(MINUTE) },
        now: at(2),
      });
      expect(resumed).toMatchObject({
        enabled: true,
        consecutiveFailures: 0,
        autoPause: { afterFailures: 1 },
      });
    });
  });
}
