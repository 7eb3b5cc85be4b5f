import type { Scheduler } from '@cronkeeper/core';
import { type Child, startChildren } from './children.js';
import { benchScheduler, Recorder, type StartRecord } from './instance.js';
import { dropNamespace, type OpenedStore, openStore, type StoreKind } from './stores.js';

/**
 * Cronkeeper instances sharing one store, plus a client scheduler (never started, so it only
 * writes: triggers, jobs) in the harness. On PostgreSQL and Redis each instance is a child process;
 * the memory store lives in one process, so there its instances are schedulers in the harness
 * sharing the store.
 */
export class Cluster {
  private constructor(
    readonly kind: StoreKind,
    readonly label: string,
    readonly opened: OpenedStore,
    readonly client: Scheduler,
    readonly children: Child[],
    readonly local: { scheduler: Scheduler; recorder: Recorder }[],
  ) {}

  static async open(kind: StoreKind, label: string, options: { instances: number; concurrency?: number }) {
    await dropNamespace(kind, label);
    const opened = await openStore(kind, label);
    const client = benchScheduler(opened, new Recorder());
    const config = { kind, label, ...(options.concurrency ? { concurrency: options.concurrency } : {}) };
    const children =
      kind === 'memory'
        ? []
        : await startChildren(
            'instance',
            Array.from({ length: options.instances }, () => config),
          );
    const local =
      kind === 'memory'
        ? Array.from({ length: options.instances }, () => {
            const recorder = new Recorder();
            const scheduler = benchScheduler(opened, recorder, {
              ...(options.concurrency ? { concurrency: options.concurrency } : {}),
            });
            return { scheduler, recorder };
          })
        : [];
    return new Cluster(kind, label, opened, client, children, local);
  }

  /** Start every instance's loop. */
  async start(): Promise<void> {
    for (const child of this.children) child.send({ type: 'go' });
    await Promise.all([
      ...this.children.map((child) => child.waitFor('started')),
      ...this.local.map(({ scheduler }) => scheduler.start()),
    ]);
  }

  /** Every executor start seen by every instance so far. */
  async starts(): Promise<StartRecord[]> {
    for (const child of this.children) child.send({ type: 'collect' });
    const records = await Promise.all(this.children.map((child) => child.waitFor('records')));
    return [
      ...records.flatMap((record) => record.starts as StartRecord[]),
      ...this.local.flatMap(({ recorder }) => recorder.starts),
    ];
  }

  async close(): Promise<void> {
    await Promise.all([
      ...this.children.map((child) => child.stop()),
      ...this.local.map(({ scheduler }) => scheduler.stop({ grace: '1s' })),
    ]);
    await this.opened.close();
    await dropNamespace(this.kind, this.label);
  }
}
