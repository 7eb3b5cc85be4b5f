import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { redisStore } from '@cronkeeper/adapter-redis';
import { createScheduler, defineExecutor, type Run, type Scheduler } from '@cronkeeper/core';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { PrivateRedis, redisServerAvailable } from './redis-server.js';

// What a crash of a Redis that persists with AOF and `appendfsync everysec` (the default) costs
// in slots: two schedulers fire a burst of every-second jobs, the server dies right after a burst
// and comes back from its AOF, and every execution is counted by slot. A slot executed twice is
// a re-run; a due slot never executed is lost.
//
// Two crashes, because they lose different things. SIGKILL of redis-server (kill -9, the OOM
// killer, a container killed): Redis write()s the AOF before it answers a command, so the file
// in the OS page cache holds every acknowledged write and fsync does not matter. A crash of the
// machine (power loss, kernel panic) loses what was not yet fsync()ed: with `everysec`, the last
// second or so. A test cannot cut the power, so the second case kills the server and then puts
// back the AOF as it was at an instant before the burst: the state the disk held if the last
// fsync happened then.

const prefix = '{ck-durability}';
const JOBS = 20;
const LEASE_MS = 2_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(
  check: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Sleep until `offsetMs` after the next whole second (every job fires on the second). */
async function nextSecondPlus(offsetMs: number): Promise<number> {
  const boundary = Math.ceil((Date.now() + 1) / 1000) * 1000;
  await sleep(boundary + offsetMs - Date.now());
  return boundary;
}

interface Execution {
  slot: string;
  runId: string;
  at: number;
}

interface Outcome {
  executions: Execution[];
  runs: Run[];
  /** Slots that had to execute: from the jobs' creation until shortly before they were paused. */
  due: string[];
  killedAt: number;
}

const slotKey = (job: string | null, at: Date | null) => `${job} ${at?.toISOString()}`;

/**
 * Two schedulers on `server`, `JOBS` jobs every second (misfire `all`, so no slot is coalesced
 * away; overlap `allow`, so slots do not depend on each other). `crash` runs right after a burst;
 * the server is then started again from its files, the schedulers carry on past one lease, and
 * the jobs are paused and the schedulers stopped.
 */
async function burstThenCrash(
  server: PrivateRedis,
  cleanup: (() => Promise<void>)[],
  crash: () => Promise<void>,
): Promise<Outcome> {
  const executions: Execution[] = [];
  const clients = [0, 1].map(() => {
    const client = new Redis(server.url, { retryStrategy: () => 100, maxRetriesPerRequest: null });
    // Refused connections while the server is down are expected.
    client.on('error', () => {});
    return client;
  });
  const schedulers: Scheduler[] = clients.map((client, index) =>
    createScheduler({
      store: redisStore({ redis: client, prefix, onError: () => {} }),
      instanceId: `instance-${index}`,
      pollInterval: '200ms',
      lease: LEASE_MS,
      logger: false,
      maintenanceJobs: false,
      executors: {
        tick: defineExecutor({
          run: async (ctx) => {
            executions.push({
              slot: slotKey(ctx.job?.name ?? null, ctx.run.scheduledFor),
              runId: ctx.run.id,
              at: Date.now(),
            });
            await sleep(20);
          },
        }),
      },
    }),
  );
  cleanup.push(async () => {
    await Promise.all(schedulers.map((scheduler) => scheduler.stop({ grace: '2s' })));
    for (const client of clients) client.disconnect();
  });
  const [first] = schedulers as [Scheduler, Scheduler];
  const names = Array.from({ length: JOBS }, (_, index) => `every-second-${index}`);
  const created = [];
  for (const name of names)
    created.push(
      await first.jobs.create({
        name,
        schedule: '* * * * * *',
        executor: 'tick',
        misfire: 'all',
        catchUpLimit: 100,
        overlap: 'allow',
      }),
    );
  const from = new Date(Math.max(...created.map((job) => job.createdAt.getTime())));
  await Promise.all(schedulers.map((scheduler) => scheduler.start()));
  await until(() => executions.length >= JOBS * 2, 'two bursts before the crash', 10_000);

  await crash();
  const killedAt = Date.now();
  await sleep(300);
  await server.launch();
  // Past one lease, so runs whose finish the crash took are recovered, and later slots run.
  await sleep(LEASE_MS * 2);
  const pauseFrom = Date.now();
  for (const name of names) await first.jobs.pause(name, 'measured');
  await until(
    async () => (await first.runs.list({ status: ['pending', 'running'], limit: 1 })).items.length === 0,
    'the last runs to end',
    15_000,
  );
  await Promise.all(schedulers.map((scheduler) => scheduler.stop({ grace: '5s' })));

  const runs: Run[] = [];
  for (const name of names) runs.push(...(await first.runs.list({ job: name, limit: 500 })).items);
  // Slots up to a second before the pause began must have run; later ones may not have fired.
  const due: string[] = [];
  for (const name of names)
    for (let slot = Math.ceil((from.getTime() + 1) / 1000) * 1000; slot <= pauseFrom - 1000; slot += 1000)
      due.push(slotKey(name, new Date(slot)));
  return { executions, runs, due, killedAt };
}

/**
 * How often Redis held back an AOF write because the previous fsync was still running (it then
 * answers commands it has not written yet, for up to 2 s): `aof_delayed_fsync` of INFO.
 */
async function aofDelayedFsyncs(server: PrivateRedis): Promise<number> {
  const redis = new Redis(server.url, { maxRetriesPerRequest: 0 });
  try {
    const info = (await redis.info('persistence')) as string;
    return Number(/aof_delayed_fsync:(\d+)/.exec(info)?.[1] ?? 0);
  } finally {
    redis.disconnect();
  }
}

/** Executions per slot. */
function bySlot(executions: Execution[]): Map<string, Execution[]> {
  const slots = new Map<string, Execution[]>();
  for (const execution of executions)
    slots.set(execution.slot, [...(slots.get(execution.slot) ?? []), execution]);
  return slots;
}

/** Every due slot has a run in the history, one only; returns the re-run and lost slots. */
function measure(outcome: Outcome) {
  const executed = bySlot(outcome.executions);
  const rerun = [...executed].filter(([, list]) => list.length > 1).map(([slot]) => slot);
  const lost = outcome.due.filter((slot) => !executed.has(slot));
  const recorded = new Map<string, number>();
  for (const run of outcome.runs) {
    if (run.trigger !== 'schedule') continue;
    const key = slotKey(run.jobName, run.scheduledFor);
    recorded.set(key, (recorded.get(key) ?? 0) + 1);
  }
  const recordedTwice = [...recorded].filter(([, count]) => count > 1).map(([slot]) => slot);
  const stale = outcome.runs.filter((run) => run.error?.code === 'stale');
  return { executed, rerun, lost, recordedTwice, stale };
}

describe.skipIf(!redisServerAvailable)('redis store after a crash with AOF and appendfsync everysec', () => {
  let cleanup: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const step of cleanup.reverse()) await step();
    cleanup = [];
  });

  it('SIGKILL of redis-server right after a burst re-runs no slot and loses none: every acknowledged write was in the AOF', async () => {
    const server = await PrivateRedis.start({ appendonly: true, appendfsync: 'everysec' });
    cleanup.push(() => server.destroy());
    let delayedWrites = 0;
    const outcome = await burstThenCrash(server, cleanup, async () => {
      // 150 ms after the second: the burst's slots are fired, claimed, and mostly finished.
      await nextSecondPlus(150);
      delayedWrites = await aofDelayedFsyncs(server);
      await server.kill();
    });
    const { executed, rerun, lost, recordedTwice, stale } = measure(outcome);
    expect(outcome.due.length).toBeGreaterThanOrEqual(JOBS * 4);
    expect(lost).toEqual([]);
    expect(recordedTwice).toEqual([]);
    if (delayedWrites === 0) {
      expect(rerun).toEqual([]);
      // No finish was lost either: no run had to be recovered as stale.
      expect(stale).toEqual([]);
    } else {
      // The disk was slow: Redis held back AOF writes (up to 2 s) while it answered. Only slots
      // begun in those last 2 s may run again.
      for (const slot of rerun) {
        const [firstExecution] = executed.get(slot) ?? [];
        expect(firstExecution?.at).toBeGreaterThan(outcome.killedAt - 2_500);
      }
    }
    expect(executed.size).toBeGreaterThanOrEqual(outcome.due.length);
  }, 40_000);

  it('a machine crash (the AOF back to its last fsync, just before the burst) re-runs exactly the slots fired after that fsync and loses none', async () => {
    const server = await PrivateRedis.start({ appendonly: true, appendfsync: 'everysec' });
    cleanup.push(() => server.destroy());
    const incr = join(server.dir, 'appendonlydir', 'appendonly.aof.1.incr.aof');
    // The AOF is read between these two instants: an execution begun in between may or may not
    // have its claim in the copy.
    let copyFrom = 0;
    let copyTo = 0;
    const outcome = await burstThenCrash(server, cleanup, async () => {
      // The last fsync: 100 ms before a burst. The burst then fires, runs and finishes its slots.
      const boundary = await nextSecondPlus(-100);
      copyFrom = Date.now();
      const synced = await readFile(incr);
      copyTo = Date.now();
      await sleep(boundary + 250 - Date.now());
      await server.kill();
      // What the disk held after the power came back: the AOF as of that fsync.
      await writeFile(incr, synced);
    });
    const { executed, rerun, lost, recordedTwice, stale } = measure(outcome);
    expect(lost).toEqual([]);
    expect(recordedTwice).toEqual([]);
    // Re-run: every slot whose first execution began after the fsync (its firing or claim was
    // not on disk), once more; no slot begun before it.
    const firstAt = (slot: string) => (executed.get(slot) ?? [])[0]?.at ?? Number.NaN;
    const begunAfter = [...executed.keys()].filter(
      (slot) => firstAt(slot) > copyTo && firstAt(slot) < outcome.killedAt,
    );
    expect(begunAfter.length).toBeGreaterThanOrEqual(JOBS);
    for (const slot of begunAfter) expect(rerun).toContain(slot);
    for (const slot of rerun) {
      expect(firstAt(slot)).toBeGreaterThanOrEqual(copyFrom);
      expect(executed.get(slot)).toHaveLength(2);
    }
    console.log(
      `[cronkeeper] AOF everysec, machine crash: ${outcome.due.length} slots due, ${rerun.length} re-run ` +
        `(the burst after the last fsync), ${lost.length} lost, ${stale.length} runs recovered as stale`,
    );
  }, 40_000);
});
