import { memoryStore } from '@cronkeeper/adapter-memory';
import { createScheduler, manualClock, type Scheduler, type SchedulerOptions } from '@cronkeeper/core';

/** A scheduler on a fresh memory store in fake time, silent, without maintenance jobs. */
export function fakeTimeScheduler(
  start = '2026-03-01T00:00:00Z',
  executors: SchedulerOptions['executors'] = {},
  options: Partial<SchedulerOptions> = {},
) {
  const clock = manualClock(start);
  const store = memoryStore();
  const scheduler: Scheduler = createScheduler({
    store,
    clock,
    executors,
    logger: false,
    maintenanceJobs: false,
    ...options,
  });
  return { clock, store, scheduler };
}

/** A promise with its resolve handle, to hold an executor mid-run. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
