import { memoryStore } from '@cronkeeper/adapter-memory';
import {
  createScheduler,
  defineExecutor,
  manualClock,
  type Scheduler,
  type Store,
  StoreError,
} from '@cronkeeper/core';
import { describe, expect, it } from 'vitest';

/**
 * A store that, like a database with no tables yet, fails every call made before `init()` has
 * finished; `init()` takes a while and counts its calls.
 */
function uninitialisedStore() {
  const inner = memoryStore();
  const state = { inits: 0, ready: false };
  const store = new Proxy(inner, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      if (key === 'init')
        return async () => {
          state.inits += 1;
          await new Promise((resolve) => setTimeout(resolve, 20));
          await value.call(target);
          state.ready = true;
        };
      if (key === 'close') return value.bind(target);
      return (...args: unknown[]) =>
        state.ready
          ? value.apply(target, args)
          : Promise.reject(new Error(`relation "cronkeeper_jobs" does not exist (${String(key)})`));
    },
  }) as Store;
  return { store, state };
}

function neverStarted() {
  const { store, state } = uninitialisedStore();
  const scheduler = createScheduler({
    store,
    clock: manualClock('2026-03-01T00:00:00Z'),
    logger: false,
    maintenanceJobs: false,
    executors: { echo: defineExecutor({ run: () => 'ok' }) },
  });
  return { scheduler, state };
}

const job = { name: 'nightly', schedule: '0 2 * * *', executor: 'echo' } as const;

/** Every public call that reaches the store, as a first call on a scheduler that was never started. */
const CALLS: Record<string, (scheduler: Scheduler) => Promise<unknown>> = {
  'jobs.create': (s) => s.jobs.create(job),
  'jobs.get': (s) => s.jobs.get('nightly'),
  'jobs.list': (s) => s.jobs.list(),
  'jobs.update': (s) => s.jobs.update('nightly', { description: 'x' }),
  'jobs.delete': (s) => s.jobs.delete('nightly'),
  'jobs.pause': (s) => s.jobs.pause('nightly'),
  'jobs.resume': (s) => s.jobs.resume('nightly'),
  'jobs.seed': (s) => s.jobs.seed([job]),
  'runs.get': (s) => s.runs.get('no-such-run'),
  'runs.list': (s) => s.runs.list({ job: 'nightly' }),
  trigger: (s) => s.trigger({ executor: 'echo' }),
  schedule: (s) => s.schedule({ executor: 'echo', at: '2026-03-02T00:00:00Z' }),
  cancel: (s) => s.cancel('no-such-run'),
  runDue: (s) => s.runDue(),
  cleanupStale: (s) => s.cleanupStale(),
  prune: (s) => s.prune(),
  stats: (s) => s.stats(),
  dashboard: (s) => s.dashboard(),
  reload: (s) => s.reload(),
};

describe('a scheduler that was never started', () => {
  it.each(Object.keys(CALLS))('initialises the store before %s', async (name) => {
    const { scheduler, state } = neverStarted();
    const outcome = await (CALLS[name] as (s: Scheduler) => Promise<unknown>)(scheduler).then(
      () => null,
      (error: unknown) => error,
    );
    // Not found is a fine answer on an empty store; a store failure is not.
    expect(outcome).not.toBeInstanceOf(StoreError);
    if (outcome) expect((outcome as { code?: string }).code).toBe('NOT_FOUND');
    expect(state.inits).toBe(1);
  });

  it('initialises once when every first call comes at once', async () => {
    const { scheduler, state } = neverStarted();
    await scheduler.jobs.create(job).then(() => undefined);
    expect(state.inits).toBe(1);

    const again = neverStarted();
    const outcomes = await Promise.allSettled(Object.values(CALLS).map((call) => call(again.scheduler)));
    for (const outcome of outcomes)
      if (outcome.status === 'rejected') expect(outcome.reason).not.toBeInstanceOf(StoreError);
    expect(again.state.inits).toBe(1);
  });

  it('tries init again on the next call when the first init failed', async () => {
    const { store, state } = uninitialisedStore();
    const init = store.init.bind(store);
    let failures = 1;
    const flaky = new Proxy(store, {
      get: (target, key) =>
        key === 'init'
          ? () => (failures-- > 0 ? Promise.reject(new Error('connection refused')) : init())
          : Reflect.get(target, key),
    });
    const scheduler = createScheduler({ store: flaky, logger: false, maintenanceJobs: false });
    await expect(scheduler.jobs.list()).rejects.toBeInstanceOf(StoreError);
    await expect(scheduler.jobs.list()).resolves.toEqual([]);
    expect(state.inits).toBe(1);
  });
});
