import { describe, expect, it } from 'vitest';
import { manualClock } from '../clock.js';
import { defineExecutor } from '../executors.js';
import { createScheduler } from '../scheduler.js';
import type { NewRun, Store } from '../store.js';
import type { JsonObject, Run, RunStatus, RunTask } from '../types.js';
import type { ContractFixture } from './harness.js';
import { shapesObject } from './json-shapes.js';
import { at, DAY, MINUTE, newJob, SECOND, T0 } from './records.js';
import { allRuns, createRun, finishOne, LEASE_MS, startRun } from './steps.js';

/** Params that look like task statuses, so a store that rewrites statuses must find the right ones. */
const paramsOf = (executor: string): JsonObject => ({
  of: executor,
  status: 'pending',
  nested: { status: 'running', list: [{ status: 'pending' }, [], {}] },
  text: '{"status":"pending"},"status":"running"',
  escapes: 'ends with a backslash \\',
  quote: '\\"status\\":"pending"',
  empty: [],
  big: 2 ** 53 - 1,
  shapes: shapesObject(),
});

const task = (executor: string, status: RunStatus): RunTask => ({
  executor,
  status,
  params: paramsOf(executor),
  startedAt: null,
  finishedAt: null,
  result: null,
  error: null,
});

/** Three tasks as core creates them: two to run, the last one disabled (recorded as skipped). */
const threeTasks = (): Pick<NewRun, 'tasks'> => ({
  tasks: [task('first', 'pending'), task('second', 'pending'), task('disabled', 'skipped')],
});

/** The run as every read path gives it, checked to have ended with each task in `statuses`. */
async function expectTasks(store: Store, run: Run, status: RunStatus, statuses: RunStatus[]): Promise<void> {
  const listed = (await allRuns(store)).find((candidate) => candidate.id === run.id);
  for (const read of [run, await store.getRun(run.id), listed]) {
    expect(read?.status).toBe(status);
    expect(read?.tasks.map((each) => each.status)).toEqual(statuses);
    expect(read?.tasks.map((each) => each.params)).toEqual(['first', 'second', 'disabled'].map(paramsOf));
  }
}

/**
 * A run that ends leaves no task pending or running, whichever way it ended: cancelled while
 * pending, its job deleted, skipped by the overlap policy, recovered after its lease lapsed, swept
 * as stale, or cancelled while running, on a scheduler on this store.
 */
export function terminalTasksContract(fixture: () => ContractFixture): void {
  describe('tasks of an ended run', () => {
    it('cancelRun of a pending run cancels its tasks; disabled ones stay skipped', async () => {
      const { store } = fixture();
      const run = await createRun(store, { ...threeTasks(), runAt: at(MINUTE) });
      const cancelled = (await store.cancelRun({ runId: run.id, now: T0, by: 'ops' })) as Run;
      await expectTasks(store, cancelled, 'cancelled', ['cancelled', 'cancelled', 'skipped']);
    });

    it('deleteJob cancels the tasks of the runs it cancels', async () => {
      const { store } = fixture();
      const job = await store.insertJob(newJob());
      const run = await createRun(store, {
        ...threeTasks(),
        jobId: job.id,
        jobName: job.name,
        concurrencyKey: `job:${job.id}`,
        runAt: at(MINUTE),
      });
      expect(await store.deleteJob({ id: job.id, now: T0 })).toBe(true);
      await expectTasks(store, (await store.getRun(run.id)) as Run, 'cancelled', [
        'cancelled',
        'cancelled',
        'skipped',
      ]);
    });

    it('a run skipped by the overlap policy has its tasks skipped', async () => {
      const { store } = fixture();
      const key = 'tasks-overlap';
      await startRun(store, { concurrencyKey: key, overlap: 'skip' }, { workerId: 'w' });
      await createRun(store, { ...threeTasks(), concurrencyKey: key, overlap: 'skip', runAt: T0 });
      const { skipped } = await store.claimRuns({ workerId: 'w', now: T0, limit: 10, leaseMs: LEASE_MS });
      expect(skipped).toHaveLength(1);
      await expectTasks(store, skipped[0] as Run, 'skipped', ['skipped', 'skipped', 'skipped']);
    });

    it('finishRuns without tasks ends the stored ones with the run; given tasks are stored as given', async () => {
      const { store } = fixture();
      const recovered = await startRun(store, threeTasks(), { leaseMs: SECOND });
      const failed = await finishOne(store, {
        runId: recovered.id,
        fence: 'expired',
        now: at(2 * SECOND),
        status: 'failed',
        result: null,
        error: { code: 'stale', message: 'lapsed' },
      });
      await expectTasks(store, failed as Run, 'failed', ['failed', 'failed', 'skipped']);

      const stopped = await startRun(store, threeTasks(), { workerId: 'w' });
      const cancelled = await finishOne(store, {
        runId: stopped.id,
        fence: { workerId: 'w' },
        now: at(SECOND),
        status: 'cancelled',
        result: null,
        error: { code: 'cancelled', message: 'cancelled on request' },
      });
      await expectTasks(store, cancelled as Run, 'cancelled', ['cancelled', 'cancelled', 'skipped']);

      const executed = await startRun(store, threeTasks(), { workerId: 'w' });
      const given = [task('first', 'succeeded'), task('second', 'failed'), task('disabled', 'skipped')];
      const finished = await finishOne(store, {
        runId: executed.id,
        fence: { workerId: 'w' },
        now: at(SECOND),
        status: 'failed',
        result: null,
        error: { code: 'error', message: 'boom' },
        tasks: given,
      });
      await expectTasks(store, finished as Run, 'failed', ['succeeded', 'failed', 'skipped']);
    });

    it('failStaleRuns fails the tasks of the runs it sweeps', async () => {
      const { store } = fixture();
      const run = await startRun(store, threeTasks(), { now: at(-4 * DAY), leaseMs: 5 * DAY });
      const [swept] = await store.failStaleRuns({
        startedBefore: at(-3 * DAY),
        now: T0,
        error: { code: 'stale', message: 'exceeded 3 days' },
      });
      expect(swept?.id).toBe(run.id);
      await expectTasks(store, swept as Run, 'failed', ['failed', 'failed', 'skipped']);
    });

    it('a scheduler on this store ends every task of a run it cancels, pending or running', async () => {
      const { store } = fixture();
      let started!: () => void;
      const running = new Promise<void>((resolve) => {
        started = resolve;
      });
      const scheduler = createScheduler({
        store,
        clock: manualClock(T0),
        logger: false,
        maintenanceJobs: false,
        executors: {
          wait: defineExecutor({
            run: ({ signal }) =>
              new Promise((_, reject) => {
                started();
                signal.addEventListener('abort', () => reject(signal.reason), { once: true });
              }),
          }),
          after: defineExecutor({ run: () => 'never' }),
          off: defineExecutor({ run: () => 'never' }),
        },
      });
      await scheduler.jobs.create({
        name: 'three tasks',
        schedule: '@yearly',
        tasks: ['wait', 'after', { executor: 'off', enabled: false }],
      });
      const oneOff = await scheduler.schedule({ job: 'three tasks', at: at(DAY) });
      const cancelledOneOff = await scheduler.cancel(oneOff.id, { by: 'ops' });
      expect(cancelledOneOff.tasks.map((each) => each.status)).toEqual(['cancelled', 'cancelled', 'skipped']);
      const readOneOff = await scheduler.runs.get(oneOff.id);
      expect(readOneOff.status).toBe('cancelled');
      expect(readOneOff.tasks.map((each) => each.status)).toEqual(['cancelled', 'cancelled', 'skipped']);

      const run = await scheduler.trigger({ job: 'three tasks' });
      const due = scheduler.runDue();
      await running;
      await scheduler.cancel(run.id, { by: 'ops' });
      expect((await due).summary).toEqual({ total: 0, executed: 0, skipped: 0, failed: 0 });
      const stopped = await scheduler.runs.get(run.id);
      expect(stopped.status).toBe('cancelled');
      expect(stopped.tasks.map((each) => each.status)).toEqual(['cancelled', 'cancelled', 'skipped']);
      const listed = (await scheduler.runs.list({ job: 'three tasks' })).items;
      for (const each of listed)
        expect(each.tasks.every((entry) => entry.status !== 'pending' && entry.status !== 'running')).toBe(
          true,
        );
      await scheduler.stop();
    });
  });
}
