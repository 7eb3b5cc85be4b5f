import {
  createScheduler,
  defineExecutor,
  type FinishAndClaimInput,
  type FinishRunInput,
  type Run,
  type Scheduler,
  type SchedulerOptions,
  type Store,
} from '@cronkeeper/core';
import { preciseNow, sleep } from './stats.js';
import type { OpenedStore } from './stores.js';

/** One executor start as seen inside the executor: run id, start instant, slot (ms) and job. */
export type StartRecord = [runId: string, startedAt: number, scheduledFor: number | null, job: string | null];

/** What an instance observed: executor starts and finishes. */
export class Recorder {
  readonly starts: StartRecord[] = [];
  finished = 0;
  failed = 0;
  lastFinishAt = 0;
  readonly errors: string[] = [];
}

/**
 * The executors every benchmark instance registers:
 * - `record` returns at once after noting when it started (W1 no-op, W2 probe, W3 tick);
 * - `long` runs for a minute unless aborted (W4's victim).
 */
export function benchExecutors(recorder: Recorder): NonNullable<SchedulerOptions['executors']> {
  return {
    record: defineExecutor({
      description: 'Notes its start and returns at once.',
      run: (ctx) => {
        recorder.starts.push([
          ctx.run.id,
          preciseNow(),
          ctx.run.scheduledFor ? ctx.run.scheduledFor.getTime() : null,
          ctx.job?.name ?? null,
        ]);
      },
    }),
    long: defineExecutor({
      description: 'Runs for 60 s unless aborted.',
      run: async (ctx) => {
        recorder.starts.push([ctx.run.id, preciseNow(), null, ctx.job?.name ?? null]);
        await Promise.race([
          sleep(60_000),
          new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true })),
        ]);
      },
    }),
  };
}

/**
 * Note each run this instance finishes, when the store confirms it. Done on the store rather than
 * with `run:succeeded` listeners: a listener makes the scheduler fetch every run other instances
 * finish, which would load the benchmark with work a real host need not do.
 */
function recordingStore(store: Store, recorder: Recorder): Store {
  const record = (runs: readonly (Run | null)[]) => {
    for (const run of runs) {
      if (run?.status === 'succeeded') {
        recorder.finished++;
        recorder.lastFinishAt = preciseNow();
      } else if (run) recorder.failed++;
    }
  };
  return new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      // A run's finish reaches the store through either call: alone, or with the claim of its freed slot.
      if (key === 'finishRuns')
        return async (inputs: FinishRunInput[]) => {
          const runs = await (value as Store['finishRuns']).call(target, inputs);
          record(runs);
          return runs;
        };
      if (key === 'finishAndClaim')
        return async (input: FinishAndClaimInput) => {
          const result = await (value as Store['finishAndClaim']).call(target, input);
          record(result.finished);
          return result;
        };
      return value;
    },
  });
}

/** Settings every benchmark scheduler shares: no logging (its cost is the host's choice), no maintenance jobs. */
export function benchScheduler(
  opened: OpenedStore,
  recorder: Recorder,
  options: { concurrency?: number; instanceId?: string } = {},
): Scheduler {
  const scheduler = createScheduler({
    store: recordingStore(opened.store, recorder),
    executors: benchExecutors(recorder),
    logger: false,
    maintenanceJobs: false,
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    ...(options.instanceId === undefined ? {} : { instanceId: options.instanceId }),
  });
  scheduler.on('scheduler:error', ({ operation, error }) => {
    recorder.errors.push(`${operation}: ${error.message}`);
  });
  return scheduler;
}
