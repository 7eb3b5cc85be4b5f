/**
 * The host app: one scheduler on PostgreSQL, the same code in every instance. Jobs and runs live
 * in the database; executors live here. Instances wake each other with LISTEN/NOTIFY, so polling
 * can stay slow.
 */
import { postgresStore } from '@cronkeeper/adapter-postgres';
import { createScheduler, defineExecutor, type Scheduler } from '@cronkeeper/core';
import pg from 'pg';
import { z } from 'zod';

/** The database of the example: CRONKEEPER_PG_URL, or a local server with trust auth. */
export const DATABASE_URL = process.env.CRONKEEPER_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** A schema of its own, so the example never touches anything else in the database. */
export const SCHEMA = process.env.CRONKEEPER_EXAMPLE_SCHEMA ?? 'cronkeeper_example';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Build one instance of the app: its pool, store and scheduler. */
export function createApp(instance: string): { scheduler: Scheduler; pool: pg.Pool } {
  const pool = new pg.Pool({
    connectionString: DATABASE_URL,
    max: 5,
    application_name: `example-${instance}`,
  });
  const scheduler = createScheduler({
    store: postgresStore({ pool, schema: SCHEMA }),
    instanceId: instance,
    concurrency: 1,
    // Slow polling on purpose: what starts quickly below was woken by a notification.
    pollInterval: '60s',
    logger: false,
    maintenanceJobs: false,
    executors: {
      nightlyImport: defineExecutor({
        description: 'Imports yesterday’s orders (slow)',
        run: async (ctx) => {
          await sleep(4_000);
          ctx.log.info('imported');
          return { orders: 128 };
        },
      }),
      sendReport: defineExecutor({
        description: 'Mails the daily report',
        params: z.object({ recipients: z.number().int().positive() }),
        defaults: { recipients: 3 },
        run: async (ctx) => ({ sent: ctx.params.recipients }),
      }),
    },
    jobs: [{ name: 'send-report', schedule: 'daily', executor: 'sendReport', description: 'Daily report' }],
  });
  return { scheduler, pool };
}
