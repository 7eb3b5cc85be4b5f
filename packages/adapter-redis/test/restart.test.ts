import { redisStore } from '@cronkeeper/adapter-redis';
import { createScheduler, defineExecutor, type Run, type Scheduler } from '@cronkeeper/core';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { checkIndexes } from './invariants.js';
import { PrivateRedis, redisServerAvailable } from './redis-server.js';

const prefix = '{ck-restart}';
const JOBS = ['every-second-a', 'every-second-b'];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * Two scheduler instances (each with its own client) on one server, each job firing every second;
 * `invocations` records every time an executor actually ran a slot, across both instances.
 */
function startSchedulers(server: PrivateRedis) {
  const invocations: string[] = [];
  // Refused connections while the server is down are expected; they are kept, not printed.
  const connectionErrors: Error[] = [];
  const clients = [0, 1].map(() => {
    const client = new Redis(server.url, { retryStrategy: () => 100 });
    client.on('error', (error: Error) => connectionErrors.push(error));
    return client;
  });
  const schedulers: Scheduler[] = clients.map((client, index) =>
    createScheduler({
      store: redisStore({ redis: client, prefix, onError: (error) => connectionErrors.push(error) }),
      instanceId: `instance-${index}`,
      pollInterval: '200ms',
      lease: '5s',
      logger: false,
      maintenanceJobs: false,
      executors: {
        tick: defineExecutor({
          run: async (ctx) => {
            invocations.push(`${ctx.job?.name} ${ctx.run.scheduledFor?.toISOString()}`);
            // Long enough that some runs are in flight when the server goes down.
            await sleep(150);
          },
        }),
      },
    }),
  );
  return { invocations, clients, schedulers, connectionErrors };
}

async function createJobs(scheduler: Scheduler): Promise<void> {
  for (const name of JOBS) await scheduler.jobs.create({ name, schedule: '* * * * * *', executor: 'tick' });
}

async function runsOf(scheduler: Scheduler, job: string): Promise<Run[]> {
  return (await scheduler.runs.list({ job, limit: 500 })).items;
}

/** Succeeded scheduled runs of every job whose slot is at or after `since`, at least `count` each. */
async function eachJobSucceeded(scheduler: Scheduler, since: Date, count: number): Promise<boolean> {
  for (const job of JOBS) {
    const runs = await runsOf(scheduler, job);
    const done = runs.filter(
      (run) => run.status === 'succeeded' && run.scheduledFor && run.scheduledFor >= since,
    );
    if (done.length < count) return false;
  }
  return true;
}

function duplicates(values: string[]): string[] {
  return values.filter((value, index) => values.indexOf(value) !== index);
}

describe.skipIf(!redisServerAvailable)('redis store across a Redis restart', () => {
  let cleanup: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const step of cleanup.reverse()) await step();
    cleanup = [];
  });

  /**
   * Two schedulers fire two every-second jobs; the server goes down through `stop`, stays down
   * 700 ms and comes back on the same port and data directory. Asserts no slot ran twice, the
   * history from before survived, and both jobs ran again afterwards.
   */
  async function survivesRestart(server: PrivateRedis, stop: () => Promise<void>): Promise<void> {
    cleanup.push(() => server.destroy());
    const { invocations, clients, schedulers } = startSchedulers(server);
    cleanup.push(async () => {
      await Promise.all(schedulers.map((scheduler) => scheduler.stop({ grace: '2s' })));
      for (const client of clients) client.disconnect();
    });
    const [first] = schedulers as [Scheduler, Scheduler];
    await createJobs(first);
    const startedAt = new Date();
    await Promise.all(schedulers.map((scheduler) => scheduler.start()));
    await until(
      () => eachJobSucceeded(first, startedAt, 2),
      'two runs of each job before the restart',
      6_000,
    );

    const downAt = new Date();
    await stop();
    await sleep(700);
    await server.launch();
    const upAt = new Date();

    await until(() => eachJobSucceeded(first, upAt, 2), 'two runs of each job after the restart', 8_000);
    await Promise.all(schedulers.map((scheduler) => scheduler.stop({ grace: '5s' })));

    expect(duplicates(invocations)).toEqual([]);
    for (const job of JOBS) {
      const runs = await runsOf(first, job);
      const slots = runs.map((run) => run.scheduledFor?.toISOString() ?? 'none');
      expect(duplicates(slots)).toEqual([]);
      // History from before the restart survived it.
      expect(
        runs.filter((run) => run.status === 'succeeded' && (run.scheduledFor as Date) < downAt).length,
      ).toBeGreaterThanOrEqual(2);
      expect(runs.filter((run) => run.status === 'running')).toEqual([]);
    }
    expect(await checkIndexes(clients[0] as Redis, prefix)).toEqual([]);
  }

  it('with AOF and a graceful shutdown, keeps every job and run: no slot fires twice and the schedulers carry on', async () => {
    const server = await PrivateRedis.start({ appendonly: true });
    await survivesRestart(server, () => server.shutdown('save'));
  }, 30_000);

  it('with AOF and appendfsync always, a crash (SIGKILL) loses no acknowledged write: no slot fires twice', async () => {
    const server = await PrivateRedis.start({ appendonly: true, appendfsync: 'always' });
    await survivesRestart(server, () => server.kill());
  }, 30_000);

  it('without persistence, loses jobs and history on `shutdown nosave`; the schedulers survive and run re-created jobs without repeating a slot', async () => {
    const server = await PrivateRedis.start({ appendonly: false });
    cleanup.push(() => server.destroy());
    const { invocations, clients, schedulers, connectionErrors } = startSchedulers(server);
    cleanup.push(async () => {
      await Promise.all(schedulers.map((scheduler) => scheduler.stop({ grace: '2s' })));
      for (const client of clients) client.disconnect();
    });
    const [first] = schedulers as [Scheduler, Scheduler];
    await createJobs(first);
    const startedAt = new Date();
    await Promise.all(schedulers.map((scheduler) => scheduler.start()));
    await until(() => eachJobSucceeded(first, startedAt, 1), 'a run of each job before the restart', 6_000);

    await server.shutdown('nosave');
    await sleep(700);
    await server.launch();
    // Everything is gone: the honest outcome of running without persistence.
    expect(await first.jobs.list({})).toEqual([]);
    expect(await runsOf(first, JOBS[0] as string)).toEqual([]);

    const upAt = new Date();
    await createJobs(first);
    await until(() => eachJobSucceeded(first, upAt, 2), 'runs of the re-created jobs', 8_000);
    await Promise.all(schedulers.map((scheduler) => scheduler.stop({ grace: '5s' })));

    // A re-created job starts from its next slot, so no slot ran before and after the loss.
    expect(duplicates(invocations)).toEqual([]);
    // The outage did happen under the clients (commands sent meanwhile were queued and re-sent).
    expect(connectionErrors.some((error) => error.message.includes('ECONNREFUSED'))).toBe(true);
    expect(await checkIndexes(clients[0] as Redis, prefix)).toEqual([]);
  }, 30_000);
});
