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

const schema = uniqueSchema('tx');
let pool: pg.Pool;
let workerPool: pg.Pool;
let worker: Scheduler;
const executors: SchedulerOptions['executors'] = {
  sendReceipt: defineExecutor({ run: async (ctx) => ({ sent: ctx.params }) }),
};

describe.skipIf(!pgAvailable)('enqueueing inside your own transaction', () => {
  beforeAll(async () => {
    pool = newPool();
    workerPool = newPool();
    await postgresStore({ pool, schema, notify: false }).init();
    await pool.query(`CREATE TABLE "${schema}".orders (id serial PRIMARY KEY, total integer NOT NULL)`);
    worker = createScheduler({
      store: postgresStore({ pool: workerPool, schema }),
      executors,
      pollInterval: '1m',
      logger: false,
      maintenanceJobs: false,
    });
    await worker.start();
  });

  afterAll(async () => {
    await worker?.stop({ grace: '1s' });
    if (pool) await dropSchema(pool, schema);
    await workerPool?.end();
    await pool?.end();
  });

  /** Open a transaction, write an order and enqueue its receipt through the bound store, then end it. */
  async function placeOrder(end: 'COMMIT' | 'ROLLBACK'): Promise<Run> {
    const store = postgresStore({ pool, schema });
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`INSERT INTO "${schema}".orders (total) VALUES (42)`);
      const inTransaction = createScheduler({ store: store.bind(client), executors, logger: false });
      const run = await inTransaction.trigger({ executor: 'sendReceipt', params: { total: 42 } });
      await client.query(end);
      return run;
    } finally {
      client.release();
    }
  }

  it('a rolled-back transaction leaves neither the order nor the run', async () => {
    const run = await placeOrder('ROLLBACK');
    expect(await worker.store.getRun(run.id)).toBeNull();
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM "${schema}".orders`);
    expect(rows[0]?.n).toBe(0);
  });

  it('a committed run is started by a worker woken by the NOTIFY sent at commit', async () => {
    const started = new Promise<Run>((resolve) => worker.once('run:succeeded', ({ run }) => resolve(run)));
    const sentAt = performance.now();
    const run = await placeOrder('COMMIT');
    const done = await started;
    expect(done.id).toBe(run.id);
    expect(done.result).toEqual({ sent: { total: 42 } });
    // The worker polls once a minute: only the notification explains a prompt start.
    expect(performance.now() - sentAt).toBeLessThan(2_000);
  });
});
