import { memoryStore } from '@cronkeeper/adapter-memory';
import { createScheduler, type Job, manualClock } from '@cronkeeper/core';
import { expect, it } from 'vitest';

// Regression found by the chaos suite on Redis: a store's findDueJobs may read its time index and
// then the job records in two steps, so a job fired (advanced) or paused by another instance in
// between comes back not due. The engine fired it anyway: a future slot ran early, and a slot
// that came due after a pause still ran.
function racyStore() {
  const store = memoryStore();
  let stale: string[] = [];
  const findDueJobs = store.findDueJobs.bind(store);
  // As if the index said "due" a moment before another instance advanced or paused the job.
  store.findDueJobs = async (query) => {
    const due = await findDueJobs(query);
    const extra = await Promise.all(stale.map((id) => store.getJob(id)));
    const late = extra.filter((job): job is Job => job !== null && !due.some((d) => d.id === job.id));
    return [...due, ...late];
  };
  return { store, returnAnyway: (ids: string[]) => (stale = ids) };
}

function setup() {
  const clock = manualClock('2026-03-01T00:00:00.500Z');
  const { store, returnAnyway } = racyStore();
  const errors: string[] = [];
  const scheduler = createScheduler({
    store,
    clock,
    logger: false,
    maintenanceJobs: false,
    executors: { tick: { run: () => {} } },
  });
  scheduler.on('scheduler:error', ({ operation, error }) => errors.push(`${operation}: ${error.message}`));
  return { clock, scheduler, returnAnyway, errors };
}

it('a job returned by findDueJobs before its next slot is not fired early', async () => {
  const { scheduler, returnAnyway, errors } = setup();
  const job = await scheduler.jobs.create({
    name: 'every-second',
    schedule: '* * * * * *',
    executor: 'tick',
  });
  returnAnyway([job.id]);
  await scheduler.runDue();
  expect((await scheduler.runs.list()).items).toEqual([]);
  expect((await scheduler.jobs.get('every-second')).nextRunAt).toEqual(job.nextRunAt);
  expect(errors).toEqual([]);
});

it('a paused job returned by findDueJobs fires nothing', async () => {
  const { clock, scheduler, returnAnyway, errors } = setup();
  const job = await scheduler.jobs.create({
    name: 'every-second',
    schedule: '* * * * * *',
    executor: 'tick',
  });
  await scheduler.jobs.pause('every-second');
  returnAnyway([job.id]);
  clock.advance('2s');
  await scheduler.runDue();
  expect((await scheduler.runs.list()).items).toEqual([]);
  expect(errors).toEqual([]);
});
