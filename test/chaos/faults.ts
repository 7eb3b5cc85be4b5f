import type { Run, Store } from '@cronkeeper/core';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Cluster } from './harness.js';
import type { StoreKind } from './stores.js';

/**
 * Faults injected while the workload runs. Each touches only this suite's own processes and
 * connections (matched by connection name), or a private server the test started itself.
 */

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Drop every connection whose name starts with `prefix`: `pg_terminate_backend` filtered by
 * `application_name`, or `CLIENT KILL ID` of the clients `CLIENT LIST` names so. Returns how many.
 */
export async function killConnections(kind: StoreKind, url: string, prefix: string): Promise<number> {
  if (kind === 'postgres') {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const result = await client.query(
        `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
          WHERE application_name LIKE $1 || '%' AND pid <> pg_backend_pid()`,
        [prefix],
      );
      return result.rows.filter((row: { killed: boolean }) => row.killed).length;
    } finally {
      await client.end();
    }
  }
  const redis = new Redis(url, { maxRetriesPerRequest: 2 });
  try {
    const list = (await redis.call('CLIENT', 'LIST')) as string;
    const ids = list
      .split('\n')
      .map((line) => Object.fromEntries(line.split(' ').map((pair) => pair.split('=', 2))))
      .filter((client) => typeof client.name === 'string' && client.name.startsWith(prefix))
      .map((client) => client.id as string);
    for (const id of ids) await redis.call('CLIENT', 'KILL', 'ID', id);
    return ids.length;
  } finally {
    await redis.quit();
  }
}

/** Runs running now, per instance id. */
export async function runningByWorker(store: Store): Promise<Map<string, Run[]>> {
  const { items } = await store.listRuns({ statuses: ['running'], limit: 500 });
  const byWorker = new Map<string, Run[]>();
  for (const run of items) {
    if (!run.workerId) continue;
    byWorker.set(run.workerId, [...(byWorker.get(run.workerId) ?? []), run]);
  }
  return byWorker;
}

/**
 * The live process holding the most running runs (so a kill or stop hits work in flight), waiting
 * up to `timeoutMs` for one to hold any. Falls back to slot 0.
 */
export async function busiestWorker(cluster: Cluster, store: Store, timeoutMs = 5_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const byWorker = await runningByWorker(store);
    const ranked = [...byWorker].sort((a, b) => b[1].length - a[1].length);
    for (const [instanceId] of ranked) {
      const index = cluster.indexOf(instanceId);
      if (index !== null) return index;
    }
    await sleep(100);
  }
  return 0;
}
