/**
 * The settings each system runs with, stated in every row so that a figure is never read without
 * them. Defaults are the documented ones of the versions this package pins; Cronkeeper's default
 * concurrency is measured rather than copied, so the rows follow a change of default.
 */
import { memoryStore } from '@cronkeeper/adapter-memory';
import { createScheduler, defineExecutor } from '@cronkeeper/core';
import type { PeerName } from '../peers/worker.js';
import { PGBOSS_POLL_S } from '../peers/worker.js';
import { sleep } from './stats.js';
import type { StoreKind } from './stores.js';

/** Pool size of every PostgreSQL system (Cronkeeper's bench pool, graphile-worker's and pg-boss's default). */
export const PG_POOL = 10;

let defaultConcurrency: Promise<number> | undefined;

/**
 * Cronkeeper's default concurrency, measured: runs a scheduler built without the option starts at
 * once when far more are due.
 */
export function cronkeeperDefaultConcurrency(): Promise<number> {
  defaultConcurrency ??= (async () => {
    let started = 0;
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const scheduler = createScheduler({
      store: memoryStore(),
      logger: false,
      maintenanceJobs: false,
      executors: {
        hold: defineExecutor({
          run: async () => {
            started++;
            await held;
          },
        }),
      },
    });
    for (let k = 0; k < 1_100; k++) await scheduler.trigger({ executor: 'hold', force: true });
    await scheduler.start();
    let seen = -1;
    for (let tries = 0; tries < 100 && seen !== started; tries++) {
      seen = started;
      await sleep(20);
    }
    release();
    await scheduler.stop({ grace: '1s' });
    return started;
  })();
  return defaultConcurrency;
}

/** Cronkeeper's settings: `concurrency` per instance (absent: its default), `instances`, the store. */
export async function cronkeeperSettings(
  kind: StoreKind,
  options: { concurrency?: number; instances: number },
): Promise<string> {
  const concurrency = options.concurrency ?? `default ${await cronkeeperDefaultConcurrency()}`;
  const where =
    kind === 'memory'
      ? `${options.instances} scheduler${options.instances > 1 ? 's' : ''} in 1 process (one memory store)`
      : `${options.instances} process${options.instances > 1 ? 'es' : ''}`;
  const wake =
    kind === 'postgres' ? `LISTEN/NOTIFY, pool ${PG_POOL}` : kind === 'redis' ? 'pub/sub' : 'in-process';
  return `concurrency ${concurrency} × ${where}, claim batch ≤ free slots, poll 1 s + ${wake}`;
}

/** A peer's settings: `concurrency` per process (absent: its default), `processes`. */
export function peerSettings(peer: PeerName, options: { concurrency?: number; processes: number }): string {
  const c = options.concurrency;
  const processes = `${options.processes} process${options.processes > 1 ? 'es' : ''}`;
  if (peer === 'graphile-worker')
    return `concurrency ${c ?? 'default 1'} × ${processes}, batch 1 (local queue off), poll 2 s + LISTEN/NOTIFY, pool ${PG_POOL}`;
  if (peer === 'bullmq')
    return `concurrency ${c ?? 'default 1'} × ${processes}, batch 1 (next job with each completion), blocking wait, no poll`;
  return `batchSize ${c ?? 1} × ${processes} (1 work() each, no concurrency option in v10), poll ${PGBOSS_POLL_S} s (its minimum), pool ${PG_POOL}`;
}
