import { postgresStore } from '@cronkeeper/adapter-postgres';
import {
  createScheduler,
  defineExecutor,
  type Run,
  type Scheduler,
  type SchedulerOptions,
} from '@cronkeeper/core';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, newPool, pgAvailable, uniqueSchema } from './postgres.js';

const schema = uniqueSchema('wakeup');
const pools: pg.Pool[] = [];
const schedulers: Scheduler[] = [];
const storeErrors: Error[] = [];

function instance(name: string, executors: SchedulerOptions['executors']): Scheduler {
  const pool = newPool({ applicationName: `${schema}-${name}` });
  pools.push(pool);
  const scheduler = createScheduler({
    store: postgresStore({ pool, schema, onError: (error) => storeErrors.push(error) }),
    executors,
    instanceId: `instance-${name}`,
    // Polling alone would take up to a minute: only a notification explains a fast start.
    pollInterval: '1m',
    concurrency: 1,
    logger: false,
    maintenanceJobs: false,
  });
  schedulers.push(scheduler);
  return scheduler;
}

/** Backend pids of instance `name`'s listening session (ours only, by application_name). */
async function listenerPids(name: string): Promise<number[]> {
  const { rows } = await (pools[0] as pg.Pool).query(
    `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN %'`,
    [`${schema}-${name}`],
  );
  return rows.map((row) => Number(row.pid));
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function nextStart(scheduler: Scheduler, executor: string): Promise<Run> {
  return new Promise((resolve) => {
    const listener = ({ run }: { run: Run }) => {
      if (run.executor !== executor) return;
      scheduler.off('run:started', listener);
      resolve(run);
    };
    scheduler.on('run:started', listener);
  });
}

describe.skipIf(!pgAvailable)('two schedulers on one database', () => {
  let releaseBlocker: () => void = () => {};
  const blocked = new Promise<void>((resolve) => {
    releaseBlocker = resolve;
  });
  const executors: SchedulerOptions['executors'] = {
    block: defineExecutor({ run: () => blocked }),
    ping: defineExecutor({ run: async () => 'pong' }),
  };

  beforeAll(async () => {
    const setup = newPool({ max: 1 });
    pools.push(setup);
    await postgresStore({ pool: setup, schema, notify: false }).init();
  });

  afterAll(async () => {
    releaseBlocker();
    await Promise.all(schedulers.map((scheduler) => scheduler.stop({ grace: '2s' })));
    const [setup] = pools;
    if (setup) await dropSchema(setup, schema);
    await Promise.all(pools.map((pool) => pool.end()));
  });

  it('a manual trigger on a busy instance A is started by instance B within milliseconds, through NOTIFY', async () => {
    const a = instance('a', executors);
    const b = instance('b', executors);
    await a.start();
    // A's only slot is taken, so A cannot run what it triggers next.
    const blockerStarted = nextStart(a, 'block');
    await a.trigger({ executor: 'block' });
    expect((await blockerStarted).workerId).toBe('instance-a');

    await b.start();
    // Let B's first tick pass, so it is asleep for a whole poll interval when the trigger comes.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = nextStart(b, 'ping');
    const triggeredAt = performance.now();
    const run = await a.trigger({ executor: 'ping', triggeredBy: 'test' });
    const onB = await started;
    const latencyMs = performance.now() - triggeredAt;

    expect(onB.id).toBe(run.id);
    expect(onB.workerId).toBe('instance-b');
    expect(latencyMs).toBeLessThan(1_000);
    console.log(
      `[cronkeeper] trigger on A started on B after ${latencyMs.toFixed(1)} ms (poll interval 60 s)`,
    );
  });

  it("after B's LISTEN connection is terminated, B listens again and still starts A's triggers at once", async () => {
    const [a, b] = schedulers as [Scheduler, Scheduler];
    const [before] = await listenerPids('b');
    expect(before).toBeDefined();
    await (pools[0] as pg.Pool).query('SELECT pg_terminate_backend($1)', [before]);
    await waitUntil(async () => {
      const pids = await listenerPids('b');
      return pids.length === 1 && pids[0] !== before;
    });
    expect(storeErrors.map((error) => error.message).join('\n')).toMatch(/LISTEN connection lost/);

    const started = nextStart(b, 'ping');
    const triggeredAt = performance.now();
    const run = await a.trigger({ executor: 'ping' });
    const onB = await started;
    const latencyMs = performance.now() - triggeredAt;
    expect(onB.id).toBe(run.id);
    expect(latencyMs).toBeLessThan(1_000);
    console.log(
      `[cronkeeper] after B listened again, a trigger on A started on B after ${latencyMs.toFixed(1)} ms`,
    );
  });
});
