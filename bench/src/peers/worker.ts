/**
 * The peers, each driven the way its documentation shows: graphile-worker and pg-boss on
 * PostgreSQL (each in its own schema, which it creates), BullMQ on Redis (under its own key prefix).
 * A peer job carries `{ i }` (W1, W2, W4) or `{ job }` (W3's cron items), so duplicates, misses and
 * latencies are counted exactly as for Cronkeeper. Settings are the peer's defaults unless the
 * workload passes a concurrency; `settingsOf` (lib/settings.ts) states them in every row.
 */
import { Queue, Worker } from 'bullmq';
import { Logger, makeWorkerUtils, parseCronItems, type Runner, run as runGraphile } from 'graphile-worker';
import PgBoss from 'pg-boss';
import { benchDatabaseUrl, deleteRedisKeys, dropSchema, newRedis } from '../lib/env.js';
import { reply, serve } from '../lib/ipc.js';
import { preciseNow, sleep } from '../lib/stats.js';

export type PeerName = 'graphile-worker' | 'pg-boss' | 'bullmq';

const GRAPHILE_SCHEMA = 'bench_graphile_worker';
const PGBOSS_SCHEMA = 'bench_pgboss';
const BULL_PREFIX = 'ckbench-bull';

/**
 * Where a peer keeps its data for one use: workloads that overlap (W3's minute window and W4) pass
 * their own `ns`, so neither removes nor takes the other's jobs.
 */
export function peerNamespace(ns = ''): { schema: string; prefix: string; pgbossSchema: string } {
  const suffix = ns ? `_${ns}` : '';
  return {
    schema: `${GRAPHILE_SCHEMA}${suffix}`,
    prefix: `${BULL_PREFIX}${ns ? `-${ns}` : ''}`,
    pgbossSchema: `${PGBOSS_SCHEMA}${suffix}`,
  };
}
export const QUEUE = 'bench';
/** pg-boss's shortest polling interval, in seconds. */
export const PGBOSS_POLL_S = 0.5;
const CHUNK = 1_000;

export const silentGraphileLogger = new Logger(() => () => {});

function chunks(n: number): number[][] {
  const out: number[][] = [];
  for (let start = 0; start < n; start += CHUNK)
    out.push(Array.from({ length: Math.min(CHUNK, n - start) }, (_, k) => start + k));
  return out;
}

/** Create a peer's tables before its workers start, so two workers never migrate at once. */
export async function preparePeer(peer: PeerName, ns = ''): Promise<void> {
  if (peer === 'graphile-worker') {
    const utils = await makeWorkerUtils({
      connectionString: benchDatabaseUrl(),
      schema: peerNamespace(ns).schema,
      logger: silentGraphileLogger,
    });
    try {
      await utils.migrate();
    } finally {
      await utils.release();
    }
  }
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
export async function cleanupPeer(peer: PeerName, ns = ''): Promise<void> {
  const { schema, prefix, pgbossSchema } = peerNamespace(ns);
  if (peer === 'graphile-worker') await dropSchema(schema);
  else if (peer === 'pg-boss') await dropSchema(pgbossSchema);
  else await deleteRedisKeys(`${prefix}:*`);
}

/** What a peer worker child runs. */
export interface PeerConfig {
  peer: PeerName;
  /** Jobs at once per process; absent means the peer's default (1 for graphile-worker and BullMQ). */
  concurrency?: number;
  /** `noop` returns at once; `long` runs for 60 s (W4's victim). */
  handler?: 'noop' | 'long';
  /** graphile-worker only: these cron identifiers on `* * * * *` (W3), in its runner's crontab. */
  cronJobs?: string[];
  /** The data's namespace (`peerNamespace`); absent for W1 and W2, which never overlap. */
  ns?: string;
}

/** One handler start: job key (`i` or cron job name), start instant, slot (ms) for cron jobs. */
export type PeerStart = [key: string | number, startedAt: number, slot: number | null];

/** A started peer worker; `stop` shuts it down. */
interface PeerWorker {
  stop(): Promise<void>;
}

type OnStart = (key: string | number, slot: number | null) => void;

/** The key and cron slot of a job's payload: `{ i }` or `{ job }`, graphile's `_cron.ts`. */
function keyOf(data: unknown): string | number {
  const payload = data as { i?: number; job?: string };
  return payload.job ?? payload.i ?? -1;
}

async function startWorker(config: PeerConfig, onStart: OnStart): Promise<PeerWorker> {
  const { schema, prefix, pgbossSchema } = peerNamespace(config.ns);
  const long = config.handler === 'long';
  const body = () => (long ? sleep(60_000) : undefined);
  if (config.peer === 'graphile-worker') {
    const cron = (config.cronJobs ?? []).map((job) => ({
      task: QUEUE,
      match: '* * * * *',
      identifier: job,
      payload: { job },
      options: { backfillPeriod: 0, maxAttempts: 1 },
    }));
    const runner: Runner = await runGraphile({
      connectionString: benchDatabaseUrl(),
      schema,
      noHandleSignals: true,
      logger: silentGraphileLogger,
      ...(config.concurrency === undefined ? {} : { concurrency: config.concurrency }),
      ...(cron.length > 0 ? { parsedCronItems: parseCronItems(cron) } : {}),
      taskList: {
        [QUEUE]: async (payload) => {
          const ts = (payload as { _cron?: { ts: string } })._cron?.ts;
          onStart(keyOf(payload), ts ? Date.parse(ts) : null);
          await body();
        },
      },
    });
    return { stop: () => runner.stop() };
  }
  if (config.peer === 'pg-boss') {
    const boss = new PgBoss({
      connectionString: benchDatabaseUrl(),
      schema: pgbossSchema,
      supervise: false,
      schedule: false,
    });
    boss.on('error', () => {});
    await boss.start();
    // pg-boss 10 has no per-process concurrency: a worker takes `batchSize` jobs per fetch and
    // waits out its polling interval between fetches (0.5 s at the shortest). Concurrency c is
    // therefore a batch of c jobs per fetch at the shortest poll.
    const batchSize = config.concurrency ?? 1;
    await boss.work<{ i: number }>(
      QUEUE,
      { batchSize, pollingIntervalSeconds: PGBOSS_POLL_S },
      async (jobs) => {
        for (const job of jobs) onStart(job.data.i, null);
      },
    );
    return { stop: () => boss.stop({ graceful: false, wait: true }) };
  }
  const connection = newRedis();
  const worker = new Worker(
    QUEUE,
    async (job) => {
      // A job scheduler's job id is `repeat:<scheduler id>:<slot ms>`.
      const slot = job.id?.startsWith('repeat:') ? Number(job.id.split(':').at(-1)) : null;
      onStart(keyOf(job.data), slot);
      await body();
    },
    {
      connection,
      prefix,
      ...(config.concurrency === undefined ? {} : { concurrency: config.concurrency }),
    },
  );
  worker.on('error', () => {});
  return {
    stop: async () => {
      await worker.close(true);
      connection.disconnect();
    },
  };
}

/**
 * Child role `peer`: on `go`, start one worker. Starts are noted when the handler begins; a job's
 * finish is counted when its handler returns (each peer records completion right after, as
 * Cronkeeper does in `finishRuns`, so this is slightly in the peers' favour).
 */
export async function runPeerChild(config: PeerConfig): Promise<void> {
  const starts: PeerStart[] = [];
  let finished = 0;
  let lastFinishAt = 0;
  let worker: PeerWorker | null = null;
  serve(
    {
      go: async () => {
        const at = preciseNow();
        worker = await startWorker(config, (key, slot) => {
          starts.push([key, preciseNow(), slot]);
          if (config.handler !== 'long') {
            finished++;
            lastFinishAt = preciseNow();
          }
        });
        return { type: 'started', at };
      },
      poll: () => ({
        type: 'progress',
        finished,
        started: starts.length,
        lastStart: starts.at(-1) ?? null,
      }),
      collect: () => ({ type: 'records', starts, finished, lastFinishAt }),
    },
    async () => {
      await worker?.stop();
    },
  );
  reply({ type: 'ready' });
}
