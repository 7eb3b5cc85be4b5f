/**
 * The app's one scheduler. In serverless mode it is never `start()`ed: each heartbeat request
 * (`/api/heartbeat`) runs what is due with `runDue()`, and API requests only read and write the store.
 *
 * A serverless platform runs many short-lived instances, so jobs and runs must live in a database
 * they all share: set DATABASE_URL for PostgreSQL. Without it the memory store is used, which is
 * only right for `next dev` and tests (each instance would have its own jobs).
 */
import { memoryStore } from '@cronkeeper/adapter-memory';
import { postgresStore } from '@cronkeeper/adapter-postgres';
import { createScheduler, defineExecutor, type Scheduler } from '@cronkeeper/core';
import pg from 'pg';
import { z } from 'zod';

function createAppScheduler(): Scheduler {
  const url = process.env.DATABASE_URL;
  return createScheduler({
    store: url ? postgresStore({ pool: new pg.Pool({ connectionString: url, max: 3 }) }) : memoryStore(),
    logger: false,
    executors: {
      syncInvoices: defineExecutor({
        description: 'Synchronises invoices',
        params: z.object({ batchSize: z.number().int().min(1).max(50) }),
        defaults: { batchSize: 10 },
        // A serverless function has a time limit: keep each run well inside it.
        timeout: '20s',
        run: (ctx) => ({ invoices: ctx.params.batchSize }),
      }),
      'monitor-openai': defineExecutor({
        description: 'Checks the monthly OpenAI budget',
        timeout: '20s',
        run: () => ({ usage: 3.24, budget: 10 }),
      }),
    },
    jobs: [
      { name: 'morning-sync-3am', schedule: '0 3 * * *', executor: 'syncInvoices' },
      { name: 'monitor-openai', schedule: 'every_5_minutes', executor: 'monitor-openai' },
    ],
  });
}

// Next.js may load a route module more than once (per route bundle, on hot reload): keep one
// scheduler per process so every route sees the same store.
const holder = globalThis as typeof globalThis & { __cronkeeperScheduler?: Scheduler };

holder.__cronkeeperScheduler ??= createAppScheduler();

/** The process-wide scheduler. */
export const scheduler: Scheduler = holder.__cronkeeperScheduler;

let seeded: Promise<unknown> | null = null;

/** Create the default jobs that do not exist yet (idempotent), once per process. */
export function ensureSeeded(): Promise<unknown> {
  seeded ??= scheduler.jobs.seed().catch((error: unknown) => {
    seeded = null;
    throw error;
  });
  return seeded;
}
