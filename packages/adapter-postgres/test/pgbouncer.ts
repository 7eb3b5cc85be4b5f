import type { postgresStore } from '@cronkeeper/adapter-postgres';
import {
  createScheduler,
  defineExecutor,
  type Run,
  type Scheduler,
  type SchedulerOptions,
  type Store,
} from '@cronkeeper/core';
import pg from 'pg';
import { type PoolMode, PrivatePgbouncer } from '../../../test/topologies/pgbouncer.js';
import { PG_URL } from './postgres.js';

// Shared by the PgBouncer suites: test/services.setup.ts decided once whether PgBouncer runs here
// (required, so failing rather than skipping, when CRONKEEPER_TOPOLOGIES=1, as in CI).

/** Whether the PgBouncer suites run in this process. */
export const pgbouncerAvailable: boolean = process.env.CRONKEEPER_PGBOUNCER_AVAILABLE !== '0';

/** Start a private PgBouncer in `mode` in front of the test server. */
export function startPgbouncer(mode: PoolMode, poolSize = 6): Promise<PrivatePgbouncer> {
  return PrivatePgbouncer.start({ mode, serverUrl: PG_URL, poolSize });
}

/** A pool on `url` (through PgBouncer, or direct); idle-client errors are expected and dropped. */
export function poolOn(url: string, options: { max?: number; applicationName?: string } = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 4,
    application_name: options.applicationName ?? 'cronkeeper-pgbouncer-test',
  });
  pool.on('error', () => {});
  return pool;
}

/** `store` with its publish and subscribe, which a store with notifications on offers. */
export function subscribing(
  store: Store | undefined,
): Store & Required<Pick<Store, 'publish' | 'subscribe'>> {
  if (!store?.publish || !store.subscribe) throw new Error('the store offers no publish/subscribe');
  return store as Store & Required<Pick<Store, 'publish' | 'subscribe'>>;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The next `run:started` of `executor` on `scheduler`. */
export function nextStart(scheduler: Scheduler, executor: string): Promise<Run> {
  return new Promise((resolve) => {
    const listener = ({ run }: { run: Run }) => {
      if (run.executor !== executor) return;
      scheduler.off('run:started', listener);
      resolve(run);
    };
    scheduler.on('run:started', listener);
  });
}

/**
 * Two schedulers, A and B, each with one slot, on stores made by `storeOf`. A's slot is taken by a
 * run that blocks until `release()`, so a trigger sent through A can only start on B: how soon it
 * does tells whether B was woken (a notification) or found it by polling.
 */
export async function busyPair(
  storeOf: (name: 'a' | 'b') => ReturnType<typeof postgresStore>,
  pollInterval: string,
): Promise<{ a: Scheduler; b: Scheduler; release: () => void; stop: () => Promise<void> }> {
  let release: () => void = () => {};
  const blocked = new Promise<void>((resolve) => {
    release = resolve;
  });
  const executors: SchedulerOptions['executors'] = {
    block: defineExecutor({ run: () => blocked }),
    ping: defineExecutor({ run: async () => 'pong' }),
  };
  const [a, b] = (['a', 'b'] as const).map((name) =>
    createScheduler({
      store: storeOf(name),
      executors,
      instanceId: `instance-${name}`,
      pollInterval,
      concurrency: 1,
      logger: false,
      maintenanceJobs: false,
    }),
  ) as [Scheduler, Scheduler];
  await a.start();
  const blockerStarted = nextStart(a, 'block');
  await a.trigger({ executor: 'block' });
  const blocker = await blockerStarted;
  if (blocker.workerId !== 'instance-a') throw new Error('the blocking run did not start on A');
  await b.start();
  // Let B's first tick pass, so it sleeps for a whole poll interval when the trigger comes.
  await sleep(300);
  return {
    a,
    b,
    release,
    stop: async () => {
      release();
      await Promise.all([a.stop({ grace: '2s' }), b.stop({ grace: '2s' })]);
    },
  };
}

/** Trigger `ping` through A and measure how long until B starts it. */
export async function triggerLatency(pair: {
  a: Scheduler;
  b: Scheduler;
}): Promise<{ run: Run; ms: number }> {
  const started = nextStart(pair.b, 'ping');
  const at = performance.now();
  const triggered = await pair.a.trigger({ executor: 'ping', triggeredBy: 'test' });
  const run = await started;
  if (run.id !== triggered.id) throw new Error('B started another run than the one triggered');
  return { run, ms: performance.now() - at };
}
