/**
 * The peers of W1, each driven the way its documentation shows, with its default worker settings:
 * graphile-worker and pg-boss on PostgreSQL (each in its own schema, which it creates), BullMQ on
 * Redis (under its own key prefix). A peer job carries `{ i }`, its index, so duplicates and misses
 * are counted exactly as for Cronkeeper.
 */
import { Queue, Worker } from 'bullmq';
import { Logger, makeWorkerUtils, type Runner, run as runGraphile } from 'graphile-worker';
import PgBoss from 'pg-boss';
import { benchDatabaseUrl, deleteRedisKeys, dropSchema, newRedis } from '../lib/env.js';
import { reply, serve } from '../lib/ipc.js';
import { preciseNow } from '../lib/stats.js';

export type PeerName = 'graphile-worker' | 'pg-boss' | 'bullmq';

const GRAPHILE_SCHEMA = 'bench_graphile_worker';
const PGBOSS_SCHEMA = 'bench_pgboss';
const BULL_PREFIX = 'ckbench-bull';
const QUEUE = 'bench';
const CHUNK = 1_000;

const silentGraphileLogger = new Logger(() => () => {});

function chunks(n: number): number[][] {
  const out: number[][] = [];
  for (let start = 0; start < n; start += CHUNK)
    out.push(Array.from({ length: Math.min(CHUNK, n - start) }, (_, k) => start + k));
  return out;
}

/** Enqueue jobs 0…n-1 in bulk (each peer's own bulk API), ready to run now. */
export async function seedPeer(peer: PeerName, n: number): Promise<void> {
  if (peer === 'graphile-worker') {
    const utils = await makeWorkerUtils({
      connectionString: benchDatabaseUrl(),
      schema: GRAPHILE_SCHEMA,
      logger: silentGraphileLogger,
    });
    try {
      await utils.migrate();
      for (const ids of chunks(n))
        await utils.addJobs(ids.map((i) => ({ identifier: QUEUE, payload: { i }, maxAttempts: 1 })));
    } finally {
      await utils.release();
    }
  } else if (peer === 'pg-boss') {
    const boss = new PgBoss({ connectionString: benchDatabaseUrl(), schema: PGBOSS_SCHEMA, max: 2 });
    boss.on('error', () => {});
    await boss.start();
    try {
      await boss.createQueue(QUEUE);
      for (const ids of chunks(n))
        await boss.insert(ids.map((i) => ({ name: QUEUE, data: { i }, retryLimit: 0 })));
    } finally {
      await boss.stop({ graceful: false, wait: true });
    }
  } else {
    const connection = newRedis();
    const queue = new Queue(QUEUE, { connection, prefix: BULL_PREFIX });
    try {
      for (const ids of chunks(n))
        await queue.addBulk(ids.map((i) => ({ name: QUEUE, data: { i }, opts: { attempts: 1 } })));
    } finally {
      await queue.close();
      connection.disconnect();
    }
  }
}

/** Remove everything a peer stored. */
export async function cleanupPeer(peer: PeerName): Promise<void> {
  if (peer === 'graphile-worker') await dropSchema(GRAPHILE_SCHEMA);
  else if (peer === 'pg-boss') await dropSchema(PGBOSS_SCHEMA);
  else await deleteRedisKeys(`${BULL_PREFIX}:*`);
}

/** A started peer worker; `stop` shuts it down. */
interface PeerWorker {
  stop(): Promise<void>;
}

async function startWorker(peer: PeerName, onJob: (i: number) => void): Promise<PeerWorker> {
  if (peer === 'graphile-worker') {
    const runner: Runner = await runGraphile({
      connectionString: benchDatabaseUrl(),
      schema: GRAPHILE_SCHEMA,
      noHandleSignals: true,
      logger: silentGraphileLogger,
      taskList: {
        [QUEUE]: async (payload) => onJob((payload as { i: number }).i),
      },
    });
    return { stop: () => runner.stop() };
  }
  if (peer === 'pg-boss') {
    const boss = new PgBoss({
      connectionString: benchDatabaseUrl(),
      schema: PGBOSS_SCHEMA,
      supervise: false,
      schedule: false,
    });
    boss.on('error', () => {});
    await boss.start();
    // Its defaults fetch one job per 2 s poll (≈1 job/s for two workers); a batch of 100 every
    // 0.5 s (its shortest poll) is how pg-boss is meant to drain a backlog.
    await boss.work<{ i: number }>(QUEUE, { batchSize: 100, pollingIntervalSeconds: 0.5 }, async (jobs) => {
      for (const job of jobs) onJob(job.data.i);
    });
    return { stop: () => boss.stop({ graceful: false, wait: true }) };
  }
  const connection = newRedis();
  const worker = new Worker(QUEUE, async (job) => onJob((job.data as { i: number }).i), {
    connection,
    prefix: BULL_PREFIX,
  });
  return {
    stop: async () => {
      await worker.close(true);
      connection.disconnect();
    },
  };
}

/**
 * Child role `peer`: on `go`, start one worker of `peer`. Jobs are counted when the handler
 * returns; each peer records completion right after, as Cronkeeper does in `finishRuns`.
 */
export async function runPeerChild(config: { peer: PeerName }): Promise<void> {
  const executed: number[] = [];
  let lastFinishAt = 0;
  let worker: PeerWorker | null = null;
  serve(
    {
      go: async () => {
        const at = preciseNow();
        worker = await startWorker(config.peer, (i) => {
          executed.push(i);
          lastFinishAt = preciseNow();
        });
        return { type: 'started', at };
      },
      poll: () => ({ type: 'progress', finished: executed.length }),
      collect: () => ({ type: 'records', executed, lastFinishAt }),
    },
    async () => {
      await worker?.stop();
    },
  );
  reply({ type: 'ready' });
}
