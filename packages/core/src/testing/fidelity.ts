import { describe, expect, it } from 'vitest';
import { manualClock } from '../clock.js';
import { defineExecutor } from '../executors.js';
import { createScheduler } from '../scheduler.js';
import type { Store } from '../store.js';
import type { Job, JsonValue, Run, RunLogLine, RunTask } from '../types.js';
import type { ContractFixture } from './harness.js';
import { JSON_SHAPES, STRING_SHAPES, shapesObject } from './json-shapes.js';
import { at, MINUTE, newJob, newRun, SECOND, T0 } from './records.js';
import { allRuns, LEASE_MS } from './steps.js';

/** The same job from every read path that returns jobs. */
async function jobFromEveryPath(store: Store, job: Job): Promise<Job[]> {
  const listed = (await store.listJobs({})).find((candidate) => candidate.id === job.id);
  const due = (await store.findDueJobs({ now: at(365 * 24 * 60 * MINUTE), limit: 1000 })).find(
    (candidate) => candidate.id === job.id,
  );
  // A small page too: a store may read small and large pages of due jobs in different ways.
  const dueNow = job.nextRunAt
    ? (await store.findDueJobs({ now: job.nextRunAt, limit: 100 })).find(
        (candidate) => candidate.id === job.id,
      )
    : undefined;
  return [
    (await store.getJob(job.id)) as Job,
    ...(store.getJobs ? await store.getJobs([job.id]) : []),
    (await store.findJobByName(job.tenantId, job.name)) as Job,
    listed as Job,
    ...(job.enabled && job.nextRunAt ? [due as Job, dueNow as Job] : []),
  ];
}

/** The same run from every read path that returns runs, finished or not. */
async function runFromEveryPath(store: Store, run: Run): Promise<Run[]> {
  const listed = (await allRuns(store)).find((candidate) => candidate.id === run.id);
  return [(await store.getRun(run.id)) as Run, listed as Run];
}

/**
 * What goes in comes back: every shape of JSON a user hands over (strings that look like numbers,
 * booleans or JSON, `null`, `false`, `0`, nested values, unicode, quotes, control characters, a
 * 50 kB string) through job params and metadata, run params, results, log lines, progress notes
 * and error messages, read back through every read path, and through a scheduler on the store.
 */
export function fidelityContract(fixture: () => ContractFixture): void {
  describe('JSON fidelity', () => {
    it('job params, task params, metadata and text fields come back exactly from every read path', async () => {
      const { store } = fixture();
      const jobs: Job[] = [];
      for (const [index, [label, text]] of STRING_SHAPES.entries()) {
        const input = newJob({
          name: `fidelity ${index}: ${label}`,
          tenantId: index % 2 === 0 ? null : `tenant ${label}`,
          description: text,
          pausedNote: text,
          tasks: [{ executor: 'test.echo', enabled: true, params: { [label]: text, all: shapesObject() } }],
          params: shapesObject(),
          metadata: { nested: shapesObject(), list: JSON_SHAPES.map(([, value]) => value) },
          lastError: text,
          createdBy: text,
          updatedBy: text,
          nextRunAt: at(MINUTE + index),
        });
        const job = await store.insertJob(input);
        expect(job).toEqual({ ...input, id: job.id, version: 1 });
        for (const read of await jobFromEveryPath(store, job)) expect(read).toEqual(job);
        jobs.push(job);
      }

      // A patch carries the same values again, arranged differently.
      const [first] = jobs as [Job];
      const patch = {
        params: { swapped: JSON_SHAPES.map(([, value]) => value) },
        metadata: shapesObject(),
        tasks: JSON_SHAPES.map(([label, value]) => ({
          executor: 'test.echo',
          enabled: false,
          params: { [label]: value },
        })),
        description: '{"a":1}',
        pausedNote: '',
      };
      const updated = await store.updateJob({ id: first.id, expectedVersion: 1, patch, now: at(SECOND) });
      expect(updated).toEqual({ ...first, ...patch, updatedAt: at(SECOND), version: 2 });
      for (const read of await jobFromEveryPath(store, updated as Job)) expect(read).toEqual(updated);
    });

    it('run params, results, task results, log lines, progress notes and errors come back exactly', async () => {
      const { store } = fixture();
      const now = T0;
      const job = await store.insertJob(newJob({ name: 'fidelity runs', overlap: 'allow' }));
      const runs: Run[] = [];
      for (const [index, [label, value]] of JSON_SHAPES.entries()) {
        const run = newRun({
          jobId: job.id,
          jobName: job.name,
          executor: `fidelity.${index}`,
          concurrencyKey: `job:${job.id}`,
          overlap: 'allow',
          params: { [label]: value, all: shapesObject() },
          triggeredBy: typeof value === 'string' ? value : null,
          runAt: now,
          createdAt: at(index),
        });
        const created = await store.createRun({ run, now, rejectIfActive: false });
        expect(created.run).toEqual({ ...run, id: created.run.id });
        runs.push(created.run);
      }
      for (const run of runs)
        for (const read of await runFromEveryPath(store, run)) expect(read).toEqual(run);

      const { claimed } = await store.claimRuns({ workerId: 'w', now, limit: 1000, leaseMs: LEASE_MS });
      expect(claimed).toHaveLength(runs.length);
      // A claim answers each run as it now stands, exactly as a read of it gives it.
      for (const claim of claimed) expect(claim).toEqual(await store.getRun(claim.id));
      const logs: RunLogLine[] = STRING_SHAPES.map(([, message], index) => ({
        at: at(index),
        level: (['debug', 'info', 'warn', 'error'] as const)[index % 4] as RunLogLine['level'],
        message,
      }));
      for (const [index, run] of runs.entries()) {
        const note = STRING_SHAPES[index % STRING_SHAPES.length]?.[1] ?? '';
        const renewed = await store.renewLease({
          runId: run.id,
          workerId: 'w',
          now: at(SECOND),
          leaseMs: LEASE_MS,
          progress: { percent: 50, note },
          logs,
        });
        expect(renewed.ok).toBe(true);
        const running = (await store.getRun(run.id)) as Run;
        expect(running.logs).toEqual(logs);
        expect(running.progress).toEqual({ percent: 50, note });
      }

      const finishedAt = at(2 * SECOND);
      const outcomes = JSON_SHAPES.map(([label, value], index) => {
        const message = typeof value === 'string' ? value : `not a string: ${label}`;
        const run = runs[index] as Run;
        const failed = index % 2 === 1;
        return {
          runId: run.id,
          fence: { workerId: 'w' },
          now: finishedAt,
          status: failed ? ('failed' as const) : ('succeeded' as const),
          result: value,
          error: failed ? { code: 'error', message } : null,
          tasks: run.tasks.map((task) => ({
            ...task,
            status: failed ? ('failed' as const) : ('succeeded' as const),
            startedAt: at(SECOND),
            finishedAt,
            result: value,
            error: failed ? { code: 'error', message } : null,
          })),
          logs: [...logs].reverse(),
        };
      });
      const finished = await store.finishRuns(outcomes);
      for (const [index, run] of finished.entries()) {
        const outcome = outcomes[index] as (typeof outcomes)[number];
        expect(run, `finishRuns should hold the fence for ${JSON_SHAPES[index]?.[0]}`).not.toBeNull();
        const expected: Run = {
          ...(runs[index] as Run),
          status: outcome.status,
          workerId: (run as Run).workerId,
          startedAt: (claimed.find((claim) => claim.id === run?.id) as Run).startedAt,
          finishedAt,
          durationMs: (run as Run).durationMs,
          result: outcome.result,
          error: outcome.error,
          tasks: outcome.tasks,
          logs: outcome.logs,
          leaseUntil: (run as Run).leaseUntil,
          progress: (run as Run).progress,
        };
        expect(run).toEqual(expected);
        for (const read of await runFromEveryPath(store, expected)) expect(read).toEqual(expected);
      }

      // The dashboard's per-executor view carries each executor's last run whole.
      const summaries = await store.executorSummaries({});
      for (const [index, [label]] of JSON_SHAPES.entries()) {
        const summary = summaries.find((row) => row.executor === `fidelity.${index}`);
        expect(summary?.lastRun, `executorSummaries lastRun for ${label}`).toEqual(finished[index]);
      }
      // The job's bookkeeping keeps the last failure's message as it was given.
      const last = outcomes.at(-1) as (typeof outcomes)[number];
      expect((await store.getJob(job.id))?.lastError).toBe(last.error?.message ?? null);
    });

    it("a job's last error keeps every message exactly, whatever it looks like", async () => {
      const { store } = fixture();
      for (const [label, message] of STRING_SHAPES) {
        const job = await store.insertJob(newJob({ name: `last error: ${label}`, overlap: 'allow' }));
        const { run } = await store.createRun({
          run: newRun({ jobId: job.id, jobName: job.name, concurrencyKey: `job:${job.id}` }),
          now: T0,
          rejectIfActive: false,
        });
        await store.claimRuns({ workerId: 'w', now: T0, limit: 1, leaseMs: LEASE_MS });
        const [finished] = await store.finishRuns([
          {
            runId: run.id,
            fence: { workerId: 'w' },
            now: at(SECOND),
            status: 'failed',
            result: null,
            error: { code: 'error', message },
          },
        ]);
        expect(finished?.error).toEqual({ code: 'error', message });
        for (const read of await jobFromEveryPath(store, (await store.getJob(job.id)) as Job))
          expect(read.lastError, label).toBe(message);
      }
    });

    it('a claim and a finish answer each run exactly as a read of it then gives it, whatever the finish keeps, sets or clears', async () => {
      const { store } = fixture();
      const tasks = (status: 'pending' | 'running' | 'succeeded'): RunTask[] => [
        {
          executor: 'a',
          status,
          params: { n: 1 },
          startedAt: null,
          finishedAt: null,
          result: null,
          error: null,
        },
        {
          executor: 'b',
          status: 'succeeded',
          params: {},
          startedAt: at(1),
          finishedAt: at(2),
          result: [],
          error: null,
        },
      ];
      const make = (overrides: Parameters<typeof newRun>[0] = {}) =>
        store.createRun({
          run: newRun({ runAt: T0, overlap: 'allow', ...overrides }),
          now: T0,
          rejectIfActive: false,
        });
      const created = [
        await make({ tasks: tasks('running'), tenantId: 'acme', params: { big: 'x'.repeat(5_000) } }),
        await make({ tasks: tasks('pending'), dedupeKey: 'reply-fidelity' }),
        await make({ tasks: tasks('succeeded') }),
        await make(),
        await make(),
      ].map((result) => result.run);
      const { claimed } = await store.claimRuns({
        workerId: 'w',
        now: at(SECOND),
        limit: 10,
        leaseMs: LEASE_MS,
      });
      expect(claimed).toHaveLength(created.length);
      for (const run of claimed) expect(run).toEqual(await store.getRun(run.id));
      const [kept, cleared, overwritten, cancelled, retried] = created as [Run, Run, Run, Run, Run];
      const logs: RunLogLine[] = [{ at: at(SECOND), level: 'info', message: 'half way' }];
      for (const run of [kept, cleared])
        await store.renewLease({
          runId: run.id,
          workerId: 'w',
          now: at(SECOND),
          leaseMs: LEASE_MS,
          progress: { percent: 50, note: null },
          logs,
        });
      await store.cancelRun({ runId: cancelled.id, now: at(SECOND), by: 'someone' });
      const later = at(2 * SECOND);
      const base = { fence: { workerId: 'w' }, now: later } as const;
      const finished = await store.finishRuns([
        // Tasks, logs and progress kept: the stored tasks still running end with the run.
        {
          ...base,
          runId: kept.id,
          status: 'succeeded',
          result: { ok: true, nested: [null, 0, ''] },
          error: null,
        },
        // Progress cleared, result and error null.
        {
          ...base,
          runId: cleared.id,
          status: 'failed',
          result: null,
          error: { code: 'error', message: 'boom' },
          progress: null,
        },
        // Tasks and logs given.
        {
          ...base,
          runId: overwritten.id,
          status: 'succeeded',
          result: 'done',
          error: null,
          tasks: tasks('succeeded'),
          logs: [...logs, { at: later, level: 'warn', message: 'end' }],
          progress: { percent: 100, note: 'all' },
        },
        {
          ...base,
          runId: cancelled.id,
          status: 'cancelled',
          result: null,
          error: { code: 'cancelled', message: 'stop' },
        },
      ]);
      expect(finished.map((run) => run?.status ?? null)).toEqual([
        'succeeded',
        'failed',
        'succeeded',
        'cancelled',
      ]);
      for (const run of finished) expect(run).toEqual(await store.getRun((run as Run).id));
      expect(finished[0]?.tasks.map((task) => task.status)).toEqual(['succeeded', 'succeeded']);
      expect(finished[0]?.progress).toEqual({ percent: 50, note: null });
      expect(finished[1]?.progress).toBeNull();
      expect(finished[3]?.cancelRequested).toBe(true);
      // finishAndClaim: the finish, its follow-up and the run the freed slot takes.
      const next = (await make()).run;
      const retry = newRun({ runAt: later, attempt: 2, parentRunId: retried.id });
      const both = await store.finishAndClaim({
        finishes: [
          {
            ...base,
            runId: retried.id,
            status: 'failed',
            result: null,
            error: { code: 'error', message: 'again' },
            followUp: retry,
          },
        ],
        claim: { workerId: 'w', now: later, limit: 2, leaseMs: LEASE_MS },
      });
      expect(both.claimed.map((run) => run.id)).toContain(next.id);
      for (const run of [...both.finished, ...both.claimed])
        expect(run).toEqual(await store.getRun((run as Run).id));
    });

    it('a scheduler on this store hands back exactly what executors return, log and throw', async () => {
      const { store } = fixture();
      const clock = manualClock(T0);
      const scheduler = createScheduler({
        store,
        clock,
        logger: false,
        maintenanceJobs: false,
        executors: {
          echo: defineExecutor({ run: (ctx) => ctx.params.value ?? null }),
          pong: defineExecutor({ run: () => 'pong' }),
          shout: defineExecutor({
            run: (ctx) => {
              const text = String(ctx.params.value);
              ctx.log.info(text);
              throw new Error(text);
            },
          }),
        },
      });
      const pong = await scheduler.trigger({ executor: 'pong' });
      const echoes = new Map<string, JsonValue>();
      for (const [, value] of JSON_SHAPES) {
        const run = await scheduler.trigger({ executor: 'echo', params: { value }, force: true });
        echoes.set(run.id, value);
        expect(run.params).toEqual({ value });
      }
      await scheduler.jobs.create({
        name: 'fidelity job',
        schedule: '@yearly',
        executor: 'echo',
        params: { value: 'pong' },
        metadata: shapesObject(),
      });
      const byJob = await scheduler.trigger({ job: 'fidelity job' });
      const thrown = new Map<string, string>();
      for (const [, text] of STRING_SHAPES) {
        const run = await scheduler.trigger({ executor: 'shout', params: { value: text }, force: true });
        thrown.set(run.id, text);
      }
      const { summary } = await scheduler.runDue({ limit: 1000 });
      expect(summary.executed).toBe(2 + JSON_SHAPES.length);
      expect(summary.failed).toBe(STRING_SHAPES.length);

      expect((await scheduler.runs.get(pong.id)).result).toBe('pong');
      expect((await scheduler.runs.get(byJob.id)).result).toBe('pong');
      const listed = new Map<string, Run>();
      for (let cursor: string | null = null, page = 0; page === 0 || cursor; page++) {
        const result = await scheduler.runs.list({ limit: 500, cursor });
        for (const run of result.items) listed.set(run.id, run);
        cursor = result.nextCursor;
      }
      expect(listed.get(pong.id)?.result).toBe('pong');
      for (const [id, value] of echoes) {
        const run = await scheduler.runs.get(id);
        expect(run.status).toBe('succeeded');
        expect(run.result).toEqual(value);
        expect(run.tasks[0]?.result).toEqual(value);
        expect(listed.get(id)?.result).toEqual(value);
      }
      for (const [id, text] of thrown) {
        const run = await scheduler.runs.get(id);
        // An Error with an empty message is reported by its name.
        expect(run.error?.message).toBe(text || 'Error');
        expect(run.logs[0]?.message).toBe(text.slice(0, 4000));
        expect(listed.get(id)?.error).toEqual(run.error);
      }
      const dashboard = await scheduler.dashboard();
      expect(dashboard.jobs.find((entry) => entry.name === 'fidelity job')?.lastRun?.status).toBe(
        'succeeded',
      );
      expect(dashboard.executors.find((entry) => entry.name === 'pong')?.lastRun?.id).toBe(pong.id);
      expect((await scheduler.jobs.get('fidelity job')).metadata).toEqual(shapesObject());
      await scheduler.stop();
    });
  });
}
