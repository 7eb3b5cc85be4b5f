/**
 * W7 bulk writes, from a client instance that does not run work (not started):
 * - bulk enqueue: 10 000 one-offs in one `schedule([...])` call, due in an hour (so nothing runs);
 * - bulk import: 100 000 jobs in one `jobs.seed([...])` call, on five schedules and one executor.
 * Each figure is the wall-clock time of the call, from a store already initialised, in a fresh
 * namespace per repetition. Where a peer has a bulk enqueue API it gets the same 10 000 delayed
 * jobs in one call: BullMQ `addBulk`, graphile-worker `addJobs`, pg-boss `insert`. The peers have
 * no bulk form of recurring jobs, so the import has no peer row.
 */
import { createScheduler, type JobInput, type ScheduleInput, type Scheduler } from '@cronkeeper/core';
import { Queue } from 'bullmq';
import { Logger, makeWorkerUtils } from 'graphile-worker';
import PgBoss from 'pg-boss';
import { benchDatabaseUrl, deleteRedisKeys, dropSchema, newRedis } from '../lib/env.js';
import type { BenchContext, Row, Workload } from '../lib/report.js';
import { subjectOf } from '../lib/report.js';
import { median, preciseNow } from '../lib/stats.js';
import { dropNamespace, openStore, type StoreKind } from '../lib/stores.js';

const HOUR = 3_600_000;
const SCHEDULES = ['*/5 * * * *', '@hourly', '0 3 * * *', '15 9 * * 1-5', 'every_10_minutes'];
const GRAPHILE_SCHEMA = 'bench_w7_graphile_worker';
const PGBOSS_SCHEMA = 'bench_w7_pgboss';
const BULL_PREFIX = 'ckbench-w7-bull';
const QUEUE = 'bench';

/** A client scheduler on a fresh store of `kind`, initialised, with the one executor imported jobs name. */
async function client(kind: StoreKind, label: string) {
  const opened = await openStore(kind, label);
  const scheduler: Scheduler = createScheduler({
    store: opened.store,
    executors: { noop: { run: () => undefined } },
    logger: false,
    maintenanceJobs: false,
    // One-offs without a tenant are not capped; stated so the figure does not depend on a default.
    oneOffLimits: { perJob: false, perTenant: false },
  });
  // Initialise now (schema, scripts), so the timed call measures the writes only.
  await scheduler.jobs.list();
  return {
    scheduler,
    close: async () => {
      await opened.close();
      await dropNamespace(kind, label);
    },
  };
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const t0 = preciseNow();
  await work();
  return (preciseNow() - t0) / 1000;
}

function oneOffs(count: number): ScheduleInput[] {
  const at = Date.now() + HOUR;
  return Array.from({ length: count }, (_, i) => ({ executor: 'noop', at: new Date(at + i), params: { i } }));
}

function jobs(count: number): JobInput[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `import-${String(i).padStart(6, '0')}`,
    schedule: SCHEDULES[i % SCHEDULES.length] as string,
    executor: 'noop',
    params: { i },
  }));
}

async function enqueueCronkeeper(kind: StoreKind, count: number, rep: number): Promise<number> {
  const { scheduler, close } = await client(kind, `w7e${rep}`);
  try {
    const inputs = oneOffs(count);
    return await timed(async () => {
      const runs = await scheduler.schedule(inputs);
      if (runs.length !== count) throw new Error(`W7 ${kind}: ${runs.length} of ${count} one-offs created`);
    });
  } finally {
    await close();
  }
}

async function importCronkeeper(kind: StoreKind, count: number, rep: number): Promise<number> {
  const { scheduler, close } = await client(kind, `w7i${rep}`);
  try {
    const inputs = jobs(count);
    return await timed(async () => {
      const result = await scheduler.jobs.seed(inputs);
      if (result.created.length !== count)
        throw new Error(`W7 ${kind}: ${result.created.length} of ${count} jobs created`);
    });
  } finally {
    await close();
  }
}

type Peer = 'bullmq' | 'graphile-worker' | 'pg-boss';

/** The peer's bulk enqueue of `count` jobs delayed by an hour, in one call; seconds. */
async function enqueuePeer(peer: Peer, count: number): Promise<number> {
  const runAt = new Date(Date.now() + HOUR);
  const ids = Array.from({ length: count }, (_, i) => i);
  if (peer === 'bullmq') {
    const connection = newRedis();
    const queue = new Queue(QUEUE, { connection, prefix: BULL_PREFIX });
    try {
      await queue.waitUntilReady();
      return await timed(() =>
        queue.addBulk(ids.map((i) => ({ name: QUEUE, data: { i }, opts: { attempts: 1, delay: HOUR } }))),
      );
    } finally {
      await queue.close();
      connection.disconnect();
      await deleteRedisKeys(`${BULL_PREFIX}:*`);
    }
  }
  if (peer === 'graphile-worker') {
    const utils = await makeWorkerUtils({
      connectionString: benchDatabaseUrl(),
      schema: GRAPHILE_SCHEMA,
      logger: new Logger(() => () => {}),
    });
    try {
      await utils.migrate();
      return await timed(() =>
        utils.addJobs(ids.map((i) => ({ identifier: QUEUE, payload: { i }, runAt, maxAttempts: 1 }))),
      );
    } finally {
      await utils.release();
      await dropSchema(GRAPHILE_SCHEMA);
    }
  }
  const boss = new PgBoss({ connectionString: benchDatabaseUrl(), schema: PGBOSS_SCHEMA, max: 2 });
  boss.on('error', () => {});
  await boss.start();
  try {
    await boss.createQueue(QUEUE);
    return await timed(() =>
      boss.insert(ids.map((i) => ({ name: QUEUE, data: { i }, retryLimit: 0, startAfter: runAt }))),
    );
  } finally {
    await boss.stop({ graceful: false, wait: true });
    await dropSchema(PGBOSS_SCHEMA);
  }
}

function row(subject: string, metric: string, runs: number[], target?: number): Row {
  const value = median(runs);
  return {
    workload: 'W7',
    subject,
    metric,
    value,
    unit: 's',
    runs,
    ...(target === undefined ? {} : { target: `≤ ${target} s`, met: value <= target }),
  };
}

export const w7: Workload = {
  id: 'W7',
  title: 'bulk writes: 10 000 one-offs in one schedule() call, 100 000 jobs in one jobs.seed() call',
  async run(ctx: BenchContext): Promise<Row[]> {
    const oneOffCount = 10_000;
    const jobCount = ctx.quick ? 10_000 : 100_000;
    const rows: Row[] = [];
    const enqueueMetric = `${oneOffCount} one-offs, one call (client instance, store initialised)`;
    for (const kind of ctx.kinds) {
      const enqueue: number[] = [];
      const imported: number[] = [];
      for (let rep = 0; rep < ctx.reps; rep++) {
        enqueue.push(await enqueueCronkeeper(kind, oneOffCount, rep));
        // One import per store: three would take a third of the five-minute budget.
        if (rep === 0) imported.push(await importCronkeeper(kind, jobCount, rep));
      }
      ctx.log(
        `W7 ${kind}: enqueue ${enqueue.map((s) => s.toFixed(2)).join(' / ')} s, import ${imported.map((s) => s.toFixed(2)).join(' / ')} s`,
      );
      const checked = kind !== 'memory';
      rows.push(
        row(subjectOf(kind), enqueueMetric, enqueue, checked ? 1 : undefined),
        row(
          subjectOf(kind),
          `${jobCount} jobs imported, one jobs.seed call (5 schedules; 1 trial)`,
          imported,
          checked && !ctx.quick ? 10 : undefined,
        ),
      );
    }
    if (!ctx.peers) return rows;
    const peers: Peer[] = [
      ...(ctx.services.postgres ? (['graphile-worker', 'pg-boss'] as const) : []),
      ...(ctx.services.redis ? (['bullmq'] as const) : []),
    ];
    for (const peer of peers) {
      const runs: number[] = [];
      for (let rep = 0; rep < ctx.reps; rep++) runs.push(await enqueuePeer(peer, oneOffCount));
      ctx.log(`W7 ${peer}: enqueue ${runs.map((s) => s.toFixed(2)).join(' / ')} s`);
      const api = peer === 'bullmq' ? 'addBulk' : peer === 'pg-boss' ? 'insert' : 'addJobs';
      rows.push(row(peer, `${oneOffCount} delayed jobs, one ${api} call`, runs));
    }
    return rows;
  },
};
