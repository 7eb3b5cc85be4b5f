import { describe, expect, it } from 'vitest';
import type { Job, Run } from '../types.js';
import type { ContractFixture } from './harness.js';
import { at, HOUR, MINUTE, newJob, newRun, SECOND, T0 } from './records.js';
import {
  allRuns,
  createRun,
  finish,
  finishOne,
  ofJob,
  startRun,
  storedValueIncludes,
  unknownId,
} from './steps.js';

const LOG = { at: at(2 * SECOND + 7), level: 'info' as const, message: 'halfway there' };

/** A run id no store holds. */
function unknownRun(): Run {
  return { id: unknownId() } as Run;
}

/** renewLease and finishRun: heartbeats, fenced finishing, job bookkeeping and follow-up retries. */
export function leasesContract(fixture: () => ContractFixture): void {
  describe('renewLease', () => {
    it('extends the lease to now + leaseMs and saves progress and logs', async () => {
      const { store } = fixture();
      const run = await startRun(store, {}, { leaseMs: 30 * SECOND });
      const renewed = await store.renewLease({
        runId: run.id,
        workerId: 'worker-1',
        now: at(10 * SECOND),
        leaseMs: 30 * SECOND,
        progress: { percent: 50, note: 'half' },
        logs: [LOG],
      });
      expect(renewed).toEqual({ ok: true, cancelRequested: false });
      const stored = await store.getRun(run.id);
      expect(stored).toEqual({
        ...run,
        leaseUntil: at(40 * SECOND),
        progress: { percent: 50, note: 'half' },
        logs: [LOG],
      });
      expect(stored?.logs[0]?.at).toBeInstanceOf(Date);
      await store.renewLease({
        runId: run.id,
        workerId: 'worker-1',
        now: at(20 * SECOND),
        leaseMs: 30 * SECOND,
      });
      expect(await store.getRun(run.id)).toEqual({ ...stored, leaseUntil: at(50 * SECOND) });
    });

    it('answers ok: false to another worker, and for a pending, finished or unknown run', async () => {
      const { store } = fixture();
      const run = await startRun(store);
      const intruder = await store.renewLease({
        runId: run.id,
        workerId: 'worker-2',
        now: at(SECOND),
        leaseMs: MINUTE,
      });
      expect(intruder.ok).toBe(false);
      expect(await store.getRun(run.id)).toEqual(run);
      const pending = await createRun(store, { runAt: at(MINUTE) });
      expect(
        (await store.renewLease({ runId: pending.id, workerId: 'worker-1', now: T0, leaseMs: MINUTE })).ok,
      ).toBe(false);
      await finish(store, run, 'succeeded', at(2 * SECOND));
      expect(
        (
          await store.renewLease({
            runId: run.id,
            workerId: 'worker-1',
            now: at(3 * SECOND),
            leaseMs: MINUTE,
          })
        ).ok,
      ).toBe(false);
      expect(
        (await store.renewLease({ runId: unknownId(), workerId: 'worker-1', now: T0, leaseMs: MINUTE })).ok,
      ).toBe(false);
    });

    it('reports cancelRequested after cancelRun of the running run', async () => {
      const { store } = fixture();
      const run = await startRun(store);
      await store.cancelRun({ runId: run.id, now: at(SECOND), by: 'ops' });
      const renewed = await store.renewLease({
        runId: run.id,
        workerId: 'worker-1',
        now: at(2 * SECOND),
        leaseMs: MINUTE,
      });
      expect(renewed).toEqual({ ok: true, cancelRequested: true });
    });
  });

  describe('finishRuns', () => {
    it('finishes several runs in one call, each fenced on its own, answering in input order', async () => {
      const { store } = fixture();
      const job = await store.insertJob(newJob({ nextRunAt: at(HOUR) }));
      const first = await startRun(store, { ...ofJob(job), overlap: 'allow' }, { now: at(SECOND) });
      const other = await startRun(store, {}, { workerId: 'worker-2', now: at(SECOND) });
      const second = await startRun(store, { ...ofJob(job), overlap: 'allow' }, { now: at(2 * SECOND) });
      const input = (run: Run, status: 'succeeded' | 'failed') => ({
        runId: run.id,
        fence: { workerId: 'worker-1' },
        now: at(5 * SECOND),
        status,
        result: null,
        error: status === 'failed' ? { code: 'error', message: 'disk full' } : null,
      });
      const finished = await store.finishRuns([
        input(first, 'succeeded'),
        input(other, 'succeeded'),
        { ...input(unknownRun(), 'succeeded') },
        input(second, 'failed'),
      ]);
      expect(finished.map((run) => run?.id ?? null)).toEqual([first.id, null, null, second.id]);
      expect(finished.map((run) => run?.durationMs ?? null)).toEqual([4000, null, null, 3000]);
      expect((await store.getRun(other.id))?.status).toBe('running');
      expect(await store.getJob(job.id)).toMatchObject({
        runCount: 2,
        errorCount: 1,
        lastRunId: second.id,
        lastStatus: 'failed',
        lastError: 'disk full',
        lastRunAt: at(2 * SECOND),
      });
      expect(await store.finishRuns([])).toEqual([]);
    });

    it('sets the terminal state, timings, result, tasks and logs, and clears the lease', async () => {
      const { store, inspect } = fixture();
      const run = await startRun(store, {}, { now: at(SECOND) });
      const tasks = [
        {
          executor: 'test.echo',
          status: 'succeeded' as const,
          params: { a: 1 },
          startedAt: at(SECOND),
          finishedAt: at(3 * SECOND),
          result: { rows: 3 },
          error: null,
        },
      ];
      if (inspect) expect(storedValueIncludes(await inspect.run(run.id), 'succeeded')).toBe(false);
      const finished = await finishOne(store, {
        runId: run.id,
        fence: { workerId: 'worker-1' },
        now: at(3 * SECOND + 250),
        status: 'succeeded',
        result: { rows: 3, list: ['x', null] },
        error: null,
        tasks,
        logs: [LOG],
      });
      expect(finished).toMatchObject({
        id: run.id,
        status: 'succeeded',
        startedAt: at(SECOND),
        finishedAt: at(3 * SECOND + 250),
        durationMs: 2250,
        result: { rows: 3, list: ['x', null] },
        error: null,
        tasks,
        logs: [LOG],
        leaseUntil: null,
      });
      expect(await store.getRun(run.id)).toEqual(finished);
      if (inspect) expect(storedValueIncludes(await inspect.run(run.id), 'succeeded')).toBe(true);
    });

    it('keeps the stored tasks, ended with the run, and logs when they are omitted', async () => {
      const { store } = fixture();
      const run = await startRun(store);
      await store.renewLease({
        runId: run.id,
        workerId: 'worker-1',
        now: at(SECOND),
        leaseMs: MINUTE,
        logs: [LOG],
      });
      const finished = await finish(store, run, 'failed', at(2 * SECOND), {
        error: { code: 'timeout', message: 'too slow' },
      });
      expect(finished.tasks).toEqual(run.tasks.map((task) => ({ ...task, status: 'failed' })));
      expect(finished.logs).toEqual([LOG]);
      expect(finished.error).toEqual({ code: 'timeout', message: 'too slow' });
    });

    it('stores the progress given with the finish, keeps the stored one when omitted and clears it with null', async () => {
      const { store } = fixture();
      const runs: Run[] = [];
      for (const key of ['given', 'kept', 'cleared', 'along'])
        runs.push(await startRun(store, { concurrencyKey: key }));
      for (const run of runs)
        await store.renewLease({
          runId: run.id,
          workerId: 'worker-1',
          now: at(SECOND),
          leaseMs: MINUTE,
          progress: { percent: 10, note: 'starting' },
        });
      const [given, kept, cleared, alongClaim] = runs as [Run, Run, Run, Run];
      const base = {
        fence: { workerId: 'worker-1' },
        now: at(2 * SECOND),
        result: null,
        error: null,
      } as const;
      const done = { percent: 100, note: 'all 12 rows, "quoted" ✓' };
      const finished = await store.finishRuns([
        { ...base, runId: given.id, status: 'succeeded', progress: done },
        { ...base, runId: kept.id, status: 'succeeded' },
        { ...base, runId: cleared.id, status: 'succeeded', progress: null },
      ]);
      expect(finished.map((run) => run?.progress)).toEqual([done, { percent: 10, note: 'starting' }, null]);
      const claimedAlong = await store.finishAndClaim({
        finishes: [
          {
            ...base,
            runId: alongClaim.id,
            status: 'failed',
            error: { code: 'error', message: 'x' },
            progress: { percent: 40, note: null },
          },
        ],
        claim: { workerId: 'worker-1', now: at(2 * SECOND), limit: 0, leaseMs: MINUTE },
      });
      expect(claimedAlong.finished[0]?.progress).toEqual({ percent: 40, note: null });
      for (const [run, progress] of [
        [given, done],
        [kept, { percent: 10, note: 'starting' }],
        [cleared, null],
        [alongClaim, { percent: 40, note: null }],
      ] as const)
        expect((await store.getRun(run.id))?.progress).toEqual(progress);
    });

    it('is fenced: another worker gets null and the run is unchanged; finishing twice gives null', async () => {
      const { store } = fixture();
      const run = await startRun(store);
      const base = {
        runId: run.id,
        now: at(SECOND),
        status: 'succeeded' as const,
        result: null,
        error: null,
      };
      expect(await finishOne(store, { ...base, fence: { workerId: 'worker-2' } })).toBeNull();
      expect(await store.getRun(run.id)).toEqual(run);
      const first = await finishOne(store, { ...base, fence: { workerId: 'worker-1' } });
      expect(first?.status).toBe('succeeded');
      expect(
        await finishOne(store, {
          ...base,
          fence: { workerId: 'worker-1' },
          status: 'failed',
          now: at(2 * SECOND),
        }),
      ).toBeNull();
      expect(await store.getRun(run.id)).toEqual(first);
      expect(
        await finishOne(store, { ...base, runId: unknownId(), fence: { workerId: 'worker-1' } }),
      ).toBeNull();
      const pending = await createRun(store, { runAt: at(MINUTE) });
      expect(
        await finishOne(store, { ...base, runId: pending.id, fence: { workerId: 'worker-1' } }),
      ).toBeNull();
    });

    it('updates the job bookkeeping in the same step, without touching version or updatedAt', async () => {
      const { store } = fixture();
      const job = await store.insertJob(newJob({ overlap: 'queue' }));
      const failedRun = await startRun(store, ofJob(job), { now: at(SECOND) });
      await finish(store, failedRun, 'failed', at(3 * SECOND), {
        error: { code: 'error', message: 'disk full' },
      });
      expect(await store.getJob(job.id)).toEqual({
        ...job,
        lastRunAt: at(SECOND),
        lastRunId: failedRun.id,
        lastStatus: 'failed',
        lastError: 'disk full',
        lastDurationMs: 2 * SECOND,
        runCount: 1,
        errorCount: 1,
        consecutiveFailures: 1,
      });
      const okRun = await startRun(store, ofJob(job), { now: at(MINUTE) });
      await finish(store, okRun, 'succeeded', at(MINUTE + 500));
      const after = (await store.getJob(job.id)) as Job;
      expect(after).toMatchObject({
        lastRunAt: at(MINUTE),
        lastRunId: okRun.id,
        lastStatus: 'succeeded',
        lastError: null,
        lastDurationMs: 500,
        runCount: 2,
        errorCount: 1,
        consecutiveFailures: 0,
        version: job.version,
        updatedAt: job.updatedAt,
      });
    });

    it('finishes runs whose job was deleted or that have no job', async () => {
      const { store } = fixture();
      const job = await store.insertJob(newJob());
      const orphan = await startRun(store, ofJob(job));
      await store.deleteJob({ id: job.id, now: at(SECOND) });
      expect((await finish(store, orphan, 'succeeded', at(2 * SECOND))).status).toBe('succeeded');
      const solo = await startRun(store, { jobId: null }, { now: at(3 * SECOND) });
      expect((await finish(store, solo, 'failed', at(4 * SECOND))).status).toBe('failed');
    });

    it('creates the follow-up retry in the same step, once per dedupe key', async () => {
      const { store } = fixture();
      const run = await startRun(store, { maxAttempts: 3 });
      const retry = newRun({
        trigger: 'retry',
        attempt: 2,
        maxAttempts: 3,
        parentRunId: run.id,
        dedupeKey: `retry:${run.id}`,
        runAt: at(MINUTE),
      });
      await finishOne(store, {
        runId: run.id,
        fence: { workerId: 'worker-1' },
        now: at(SECOND),
        status: 'failed',
        result: null,
        error: { code: 'error', message: 'boom' },
        followUp: retry,
      });
      const retries = (await allRuns(store)).filter((stored) => stored.parentRunId === run.id);
      expect(retries).toHaveLength(1);
      expect(retries[0]).toEqual({ ...retry, id: retries[0]?.id });
      const again = await startRun(store, { dedupeKey: null }, { now: at(2 * SECOND) });
      await finishOne(store, {
        runId: again.id,
        fence: { workerId: 'worker-1' },
        now: at(3 * SECOND),
        status: 'failed',
        result: null,
        error: { code: 'error', message: 'boom' },
        followUp: { ...retry, parentRunId: again.id },
      });
      expect((await allRuns(store)).filter((stored) => stored.dedupeKey === `retry:${run.id}`)).toHaveLength(
        1,
      );
      expect((await store.getRun(again.id))?.status).toBe('failed');
    });
  });
}
