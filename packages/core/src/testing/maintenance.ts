import { describe, expect, it } from 'vitest';
import type { ExecutorSummary, RunCountRow } from '../store.js';
import type { ContractFixture } from './harness.js';
import { at, DAY, HOUR, MINUTE, newJob, newRunOf, SECOND, T0 } from './records.js';
import { allRuns, claimExactly, createRun, finish, ofJob, startRun, storedValueIncludes } from './steps.js';

const byDayAndStatus = (rows: RunCountRow[]) =>
  [...rows].sort((a, b) =>
    a.day + a.status < b.day + b.status ? -1 : a.day + a.status > b.day + b.status ? 1 : 0,
  );

const byExecutor = (rows: ExecutorSummary[]) => [...rows].sort((a, b) => (a.executor < b.executor ? -1 : 1));

/** Seed 001's sweep, retention, and the counts behind stats and dashboards. */
export function maintenanceContract(fixture: () => ContractFixture): void {
  describe('failStaleRuns', () => {
    it('fails only running runs started before the threshold, with bookkeeping, and frees their key', async () => {
      const { store } = fixture();
      const job = await store.insertJob(newJob({ overlap: 'queue' }));
      const stuck = await startRun(store, ofJob(job), { now: at(-4 * DAY) });
      const recent = await startRun(store, { runAt: at(-HOUR) }, { now: at(-HOUR) });
      const waiting = await createRun(
        store,
        newRunOf(job, { createdAt: at(-10 * DAY), runAt: at(-10 * DAY) }),
      );
      const old = await startRun(store, {}, { now: at(-5 * DAY) });
      await finish(store, old, 'succeeded', at(-5 * DAY + SECOND));
      const error = { code: 'stale', message: 'in progress for more than 3 days' };
      const changed = await store.failStaleRuns({ startedBefore: at(-3 * DAY), now: T0, error });
      expect(changed.map((run) => run.id)).toEqual([stuck.id]);
      expect(changed[0]).toMatchObject({
        status: 'failed',
        error,
        finishedAt: T0,
        durationMs: 4 * DAY,
        leaseUntil: null,
      });
      expect(await store.getRun(stuck.id)).toEqual(changed[0]);
      expect((await store.getRun(recent.id))?.status).toBe('running');
      expect((await store.getRun(old.id))?.status).toBe('succeeded');
      expect(await store.getJob(job.id)).toMatchObject({
        lastRunId: stuck.id,
        lastRunAt: at(-4 * DAY),
        lastStatus: 'failed',
        lastError: error.message,
        runCount: 1,
        errorCount: 1,
      });
      await claimExactly(store, waiting, { now: T0 });
      expect(await store.failStaleRuns({ startedBefore: at(-3 * DAY), now: T0, error })).toEqual([]);
    });
  });

  describe('pruneRuns', () => {
    it('deletes terminal runs finished before the threshold, per tenant, never pending or running ones', async () => {
      const { store, inspect } = fixture();
      const longAgo = at(-40 * DAY);
      const acmeOld = await startRun(store, { tenantId: 'acme' }, { now: longAgo });
      await finish(store, acmeOld, 'succeeded', longAgo);
      const failedOld = await startRun(store, {}, { now: longAgo });
      await finish(store, failedOld, 'failed', longAgo);
      const cancelledOld = await createRun(store, { runAt: at(HOUR), createdAt: longAgo });
      await store.cancelRun({ runId: cancelledOld.id, now: longAgo, by: null });
      const first = await createRun(store, {
        concurrencyKey: 'job:p',
        overlap: 'skip',
        runAt: longAgo,
        createdAt: longAgo,
      });
      const skippedOld = await createRun(store, {
        concurrencyKey: 'job:p',
        overlap: 'skip',
        runAt: at(-40 * DAY + 1),
        createdAt: longAgo,
      });
      const claimedFirst = await store.claimRuns({
        workerId: 'worker-1',
        now: at(-40 * DAY + 1),
        limit: 10,
        leaseMs: MINUTE,
      });
      expect(claimedFirst.claimed.map((run) => run.id)).toEqual([first.id]);
      expect(claimedFirst.skipped.map((run) => run.id)).toEqual([skippedOld.id]);
      await finish(store, claimedFirst.claimed[0] ?? first, 'succeeded', at(-40 * DAY + 2));
      const recent = await startRun(store, {}, { now: at(-DAY) });
      await finish(store, recent, 'succeeded', at(-DAY));
      const ancientPending = await createRun(store, { createdAt: at(-100 * DAY), runAt: at(-100 * DAY + 1) });
      const ancientRunning = await startRun(store, { createdAt: at(-100 * DAY) }, { now: at(-100 * DAY) });

      expect(await store.pruneRuns({ finishedBefore: at(-30 * DAY), tenantIds: ['acme'] })).toBe(1);
      expect(await store.getRun(acmeOld.id)).toBeNull();
      if (inspect) expect(await inspect.run(acmeOld.id)).toBeNull();
      expect(await store.pruneRuns({ finishedBefore: at(-30 * DAY) })).toBe(4);
      for (const gone of [failedOld, cancelledOld, skippedOld, first])
        expect(await store.getRun(gone.id)).toBeNull();
      const left = (await allRuns(store)).map((run) => run.id).sort();
      expect(left).toEqual([recent.id, ancientPending.id, ancientRunning.id].sort());
      expect(await store.pruneRuns({ finishedBefore: at(100 * DAY) })).toBe(1);
      expect((await store.getRun(ancientPending.id))?.status).toBe('pending');
      expect((await store.getRun(ancientRunning.id))?.status).toBe('running');
      if (inspect) expect(storedValueIncludes(await inspect.run(ancientPending.id), 'pending')).toBe(true);
    });
  });

  describe('counts', () => {
    it('countRuns counts terminal runs per UTC day and status with from <= finishedAt < to', async () => {
      const { store } = fixture();
      const from = at(-2 * DAY);
      const finishAt = async (when: Date, status: 'succeeded' | 'failed', tenantId: string | null = null) => {
        const run = await startRun(store, { tenantId, runAt: when, createdAt: when }, { now: when });
        await finish(store, run, status, when);
      };
      await finishAt(from, 'succeeded');
      await finishAt(at(-2 * DAY + HOUR), 'succeeded', 'acme');
      await finishAt(at(-2 * DAY + 2 * HOUR), 'failed');
      await finishAt(at(-DAY + HOUR), 'succeeded');
      await finishAt(at(-3 * DAY), 'succeeded');
      await finishAt(T0, 'failed');
      const cancelled = await createRun(store, { runAt: at(HOUR) });
      await store.cancelRun({ runId: cancelled.id, now: at(-MINUTE), by: null });
      await startRun(store, { runAt: at(-DAY) }, { now: at(-DAY) });
      await createRun(store, { runAt: at(-DAY) });

      expect(byDayAndStatus(await store.countRuns({ from, to: T0 }))).toEqual([
        { day: '2025-12-30', status: 'failed', count: 1 },
        { day: '2025-12-30', status: 'succeeded', count: 2 },
        { day: '2025-12-31', status: 'cancelled', count: 1 },
        { day: '2025-12-31', status: 'succeeded', count: 1 },
      ]);
      expect(byDayAndStatus(await store.countRuns({ from, to: T0, tenantIds: ['acme'] }))).toEqual([
        { day: '2025-12-30', status: 'succeeded', count: 1 },
      ]);
      expect(await store.countRuns({ from: at(DAY), to: at(2 * DAY) })).toEqual([]);
    });

    it('countActive counts pending (due or not) and running runs', async () => {
      const { store } = fixture();
      await createRun(store, { runAt: at(HOUR) });
      await createRun(store, { runAt: at(HOUR), tenantId: 'acme' });
      await startRun(store, { tenantId: 'acme' });
      const done = await startRun(store, {}, { now: at(SECOND) });
      await finish(store, done, 'succeeded', at(2 * SECOND));
      await createRun(store, { runAt: at(-MINUTE) });
      expect(await store.countActive({})).toEqual({ pending: 3, running: 1 });
      expect(await store.countActive({ tenantIds: ['acme'] })).toEqual({ pending: 1, running: 1 });
      expect(await store.countActive({ tenantIds: ['nobody'] })).toEqual({ pending: 0, running: 0 });
    });

    it('executorSummaries gives per executor finished and failed counts, running now and the last finished run', async () => {
      const { store } = fixture();
      const ok = await startRun(store, { executor: 'alpha' }, { now: at(SECOND) });
      await finish(store, ok, 'succeeded', at(2 * SECOND));
      const cancelled = await createRun(store, { executor: 'alpha', runAt: at(HOUR) });
      await store.cancelRun({ runId: cancelled.id, now: at(3 * SECOND), by: null });
      const bad = await startRun(store, { executor: 'alpha' }, { now: at(4 * SECOND) });
      const lastRun = await finish(store, bad, 'failed', at(5 * SECOND));
      await startRun(
        store,
        { executor: 'alpha', concurrencyKey: 'job:alpha', overlap: 'skip' },
        { now: at(6 * SECOND) },
      );
      await createRun(store, {
        executor: 'alpha',
        concurrencyKey: 'job:alpha',
        overlap: 'skip',
        runAt: at(7 * SECOND),
      });
      const { skipped } = await store.claimRuns({
        workerId: 'w',
        now: at(8 * SECOND),
        limit: 10,
        leaseMs: MINUTE,
      });
      expect(skipped).toHaveLength(1);
      await createRun(store, { executor: 'beta', runAt: at(HOUR) });
      const other = await startRun(store, { executor: 'gamma', tenantId: 'acme' }, { now: at(9 * SECOND) });
      await finish(store, other, 'succeeded', at(10 * SECOND));

      expect(byExecutor(await store.executorSummaries({}))).toEqual([
        { executor: 'alpha', runCount: 3, errorCount: 1, running: 1, lastRun },
        { executor: 'beta', runCount: 0, errorCount: 0, running: 0, lastRun: null },
        { executor: 'gamma', runCount: 1, errorCount: 0, running: 0, lastRun: await store.getRun(other.id) },
      ]);
      expect(
        (await store.executorSummaries({ tenantIds: [null] })).map((row) => row.executor).sort(),
      ).toEqual(['alpha', 'beta']);
    });

    it("executorSummaries' last run is the latest finished, when one finishRuns call ends them latest first", async () => {
      const { store } = fixture();
      const early = await startRun(store, { executor: 'alpha' }, { now: T0 });
      const late = await startRun(store, { executor: 'alpha' }, { now: T0 });
      const finishes = [
        { run: late, now: at(3 * SECOND) },
        { run: early, now: at(2 * SECOND) },
      ].map(({ run, now }) => ({
        runId: run.id,
        fence: { workerId: run.workerId ?? 'worker-1' },
        now,
        status: 'succeeded' as const,
        result: null,
        error: null,
      }));
      const finished = await store.finishRuns(finishes);
      expect(finished.map((run) => run?.status)).toEqual(['succeeded', 'succeeded']);
      expect(await store.executorSummaries({})).toEqual([
        { executor: 'alpha', runCount: 2, errorCount: 0, running: 0, lastRun: finished[0] },
      ]);
    });

    it('nextJobRunAt is the earliest nextRunAt of enabled jobs in the tenants, past ones included', async () => {
      const { store } = fixture();
      expect(await store.nextJobRunAt({})).toBeNull();
      await store.insertJob(newJob({ nextRunAt: at(-HOUR) }));
      await store.insertJob(newJob({ nextRunAt: at(HOUR), tenantId: 'acme' }));
      await store.insertJob(newJob({ nextRunAt: at(-2 * HOUR), enabled: false }));
      await store.insertJob(newJob({ nextRunAt: null, tenantId: 'acme' }));
      expect(await store.nextJobRunAt({})).toEqual(at(-HOUR));
      expect(await store.nextJobRunAt({ tenantIds: ['acme'] })).toEqual(at(HOUR));
      expect(await store.nextJobRunAt({ tenantIds: ['nobody'] })).toBeNull();
    });
  });
}
