/**
 * The harness's side of the peers: a client that adds one job now (W2's run-now probe), one that
 * adds a long job (W4's victim), and BullMQ's job schedulers (W3's minute pattern). Each is the
 * peer's documented way of doing it, with default options.
 */
import { Queue } from 'bullmq';
import { makeWorkerUtils } from 'graphile-worker';
import { benchDatabaseUrl, newRedis } from '../lib/env.js';
import { peerNamespace, QUEUE, silentGraphileLogger } from './worker.js';

/** Adds jobs `{ i }` to a peer's queue, due now. */
export interface PeerClient {
  add(i: number): Promise<void>;
  /** BullMQ only: the job's state (`active`, `waiting`, `failed`, …). */
  state?(i: number): Promise<string>;
  close(): Promise<void>;
}

export async function openPeerClient(peer: 'graphile-worker' | 'bullmq', ns = ''): Promise<PeerClient> {
  const { schema, prefix } = peerNamespace(ns);
  if (peer === 'graphile-worker') {
    const utils = await makeWorkerUtils({
      connectionString: benchDatabaseUrl(),
      schema,
      logger: silentGraphileLogger,
    });
    return {
      add: async (i) => {
        await utils.addJob(QUEUE, { i });
      },
      close: async () => {
        await utils.release();
      },
    };
  }
  const connection = newRedis();
  const queue = new Queue(QUEUE, { connection, prefix });
  return {
    add: async (i) => {
      await queue.add(QUEUE, { i }, { jobId: `job-${i}` });
    },
    state: (i) => queue.getJobState(`job-${i}`),
    close: async () => {
      await queue.close();
      connection.disconnect();
    },
  };
}

/** One BullMQ job scheduler per name on `pattern`, created from the harness as its docs show. */
export async function createBullSchedulers(jobs: string[], pattern: string, ns = ''): Promise<void> {
  const connection = newRedis();
  const queue = new Queue(QUEUE, { connection, prefix: peerNamespace(ns).prefix });
  try {
    for (const job of jobs) await queue.upsertJobScheduler(job, { pattern }, { name: QUEUE, data: { job } });
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
