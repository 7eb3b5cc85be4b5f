import { isDeepStrictEqual } from 'node:util';
import { type Job, NotFoundError, type Run, type Scheduler, type Store } from '@cronkeeper/core';
import { expect } from 'vitest';

/**
 * What an accepted call must have stored, checked against the input that was accepted: a call
 * that succeeds but stores something else (a dropped field, a default instead of the value given,
 * another job or run than the one returned) is as wrong as one that fails.
 */

type Input = Record<string, unknown>;

const DIRECT = [
  'name',
  'description',
  'timezone',
  'params',
  'enabled',
  'overlap',
  'misfire',
  'catchUpLimit',
  'priority',
  'metadata',
] as const;
const DURATIONS = [
  ['timeout', 'timeoutMs'],
  ['misfireGrace', 'misfireGraceMs'],
  ['jitter', 'jitterMs'],
] as const;

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** The whole milliseconds an accepted duration (`1500`, `'1.5s'`) stands for. */
function msOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Math.round(value) + 0;
  const match = typeof value === 'string' ? /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/.exec(value.trim()) : null;
  return match ? Math.round(Number(match[1]) * (UNIT_MS[match[2] as string] as number)) : undefined;
}

/** The job fields a jobs.create / jobs.update input sets, as they must be stored. */
function definitionOf(input: Input): Partial<Job> {
  const expected: Record<string, unknown> = {};
  // As JSON carries them: -0 is stored as 0 (and a "__proto__" key stays a key).
  for (const key of DIRECT)
    if (input[key] !== undefined) expected[key] = JSON.parse(JSON.stringify(input[key]));
  if (typeof input.schedule === 'string') expected.schedule = input.schedule.trim();
  for (const [given, stored] of DURATIONS) {
    const ms = msOf(input[given]);
    if (ms !== undefined) expected[stored] = ms;
    else if (input[given] === null && stored !== 'jitterMs') expected[stored] = null;
  }
  for (const key of ['activeFrom', 'activeUntil'] as const) {
    const value = input[key];
    if (value instanceof Date || typeof value === 'string') expected[key] = new Date(value);
    else if (value === null) expected[key] = null;
  }
  if (Array.isArray(input.tasks))
    expected.tasks = input.tasks.map((task) =>
      typeof task === 'string'
        ? { executor: task, enabled: true, params: {} }
        : expect.objectContaining({ executor: (task as Input).executor }),
    );
  else if (typeof input.executor === 'string')
    expected.tasks = [{ executor: input.executor, enabled: true, params: {} }];
  return expected as Partial<Job>;
}

/** jobs.create accepted `input` and returned `job`: it is stored, under its tenant, as given. */
export async function expectCreated(scheduler: Scheduler, input: Input, job: Job): Promise<void> {
  expect(job).toMatchObject({ ...definitionOf(input), tenantId: input.tenantId ?? null });
  expect(await scheduler.jobs.get(job.name, { tenantId: job.tenantId })).toEqual(job);
}

/**
 * jobs.update accepted `patch` and returned `job`: the patch is stored, nothing else moved; a
 * patch that changed nothing wrote nothing (the version stays).
 */
export async function expectUpdated(scheduler: Scheduler, before: Job | null, patch: Input, job: Job) {
  expect(job).toMatchObject(definitionOf(patch));
  if (before) {
    expect(job.id).toBe(before.id);
    // Returned exactly as it was read: nothing was written.
    expect(job.version).toBe(isDeepStrictEqual(job, before) ? before.version : before.version + 1);
    expect(job.createdAt).toEqual(before.createdAt);
  }
  expect(await scheduler.jobs.get(job.name, { tenantId: job.tenantId })).toEqual(job);
}

/** pause / resume / get / delete of the job named `name` in `tenantId` was accepted. */
export async function expectJobChange(
  scheduler: Scheduler,
  store: Store,
  which: 'pause' | 'resume' | 'get' | 'delete',
  name: string,
  tenantId: string | null,
  outcome: unknown,
  note?: unknown,
): Promise<void> {
  const stored = await store.findJobByName(tenantId, name);
  if (which === 'delete') {
    expect(stored).toBeNull();
    await expect(scheduler.jobs.get(name, { tenantId })).rejects.toBeInstanceOf(NotFoundError);
    return;
  }
  expect(outcome).toEqual(stored);
  if (which === 'pause')
    expect(stored).toMatchObject({ enabled: false, pausedNote: note ?? null, nextRunAt: null });
  if (which === 'resume') expect(stored).toMatchObject({ enabled: true, pausedNote: null });
}

/** trigger (or schedule, with `at`) accepted `input` and returned `run`: stored as asked, pending. */
export async function expectRunCreated(
  store: Store,
  input: Input,
  run: Run,
  how: { trigger: 'manual' | 'once'; by: unknown; at?: unknown },
): Promise<void> {
  expect(run).toMatchObject({
    trigger: how.trigger,
    status: 'pending',
    params: input.params ?? {},
    triggeredBy: how.by ?? null,
  });
  if (typeof input.job === 'string') expect(run.jobName).toBe(input.job);
  else expect(run).toMatchObject({ jobId: null, executor: input.executor, tenantId: input.tenantId ?? null });
  if (how.at !== undefined) expect(run.runAt).toEqual(new Date(how.at as string | Date));
  expect(await store.getRun(run.id)).toEqual(run);
}

const asList = (value: unknown): unknown[] | null =>
  value === undefined ? null : Array.isArray(value) ? value : [value];

/** runs.list accepted `query`: every run it returned matches the filter, within the limit. */
export function expectListed(query: Input, page: { items: Run[]; nextCursor: string | null }): void {
  const statuses = asList(query.status);
  const triggers = asList(query.trigger);
  expect(page.items.length).toBeLessThanOrEqual(typeof query.limit === 'number' ? query.limit : 50);
  for (const run of page.items) {
    if (statuses && statuses.length > 0) expect(statuses).toContain(run.status);
    if (triggers && triggers.length > 0) expect(triggers).toContain(run.trigger);
    if (typeof query.executor === 'string') expect(run.executor).toBe(query.executor);
    if (typeof query.job === 'string') expect(run.jobName).toBe(query.job);
  }
}

/** runs.get / cancel accepted `id`: the run returned is the one stored; a cancel took effect. */
export async function expectRunAnswer(
  store: Store,
  which: 'get' | 'cancel',
  id: string,
  run: Run,
): Promise<void> {
  expect(run.id).toBe(id);
  const stored = await store.getRun(id);
  expect(run).toEqual(stored);
  if (which === 'cancel') {
    if (run.status === 'running') expect(run.cancelRequested).toBe(true);
    else expect(run).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' } });
  }
}
