// Type-checked (never run) in a fresh app that installed the packed tarballs with npm: the public
// API as a user writes it, under `strict`, with the newest and the oldest peer versions the ranges
// allow. Every `@ts-expect-error` below proves a type is precise (a type that became `any` or
// `unknown` would make the expectation unused, which is an error).
import { memoryStore } from '@cronkeeper/adapter-memory';
import { mongoStore } from '@cronkeeper/adapter-mongo';
import { migrationSql, postgresStore } from '@cronkeeper/adapter-postgres';
import { redisStore } from '@cronkeeper/adapter-redis';
import {
  ConflictError,
  type CronkeeperError,
  consoleLogger,
  createScheduler,
  defineExecutor,
  type Job,
  parseSchedule,
  type Run,
  type Scheduler,
  type Store,
  ValidationError,
} from '@cronkeeper/core';
import { allowAll, cronRouter } from '@cronkeeper/express';
import { type CronHandler, createCronHandler } from '@cronkeeper/http';
import express from 'express';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { z } from 'zod';

const sendReport = defineExecutor({
  description: 'Sends the daily report',
  params: z.object({
    recipients: z.number().int().positive(),
    subject: z.string().default('Report'),
    replyTo: z.string().optional(), // typed `string | undefined`: the tsconfig has exactOptionalPropertyTypes
  }),
  defaults: { recipients: 3 },
  timeout: '5m',
  retry: { limit: 2, backoff: { type: 'exponential', delay: '30s' } },
  run: async (ctx) => {
    const recipients: number = ctx.params.recipients;
    const subject: string = ctx.params.subject;
    // @ts-expect-error the params type comes from the schema: there is no `recipient`
    ctx.params.recipient;
    ctx.log.info(`sending to ${recipients}`);
    ctx.progress(50, subject);
    await ctx.heartbeat();
    if (ctx.signal.aborted) return null;
    return { sent: recipients };
  },
});

/** Every store, on the clients an app already has. */
export function stores(): Store[] {
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
  const redis = new Redis({ lazyConnect: true });
  const mongo = new MongoClient('mongodb://127.0.0.1:27017/app');
  return [
    memoryStore({ maxFinishedRuns: 1_000 }),
    postgresStore({ pool, schema: 'app', notify: true }),
    redisStore({ redis, prefix: '{app}' }),
    mongoStore({ db: mongo.db(), collectionPrefix: 'app_' }),
  ];
}

export async function app(store: Store): Promise<Scheduler> {
  const scheduler = createScheduler({
    store,
    executors: { sendReport },
    timezone: 'Europe/Paris',
    logger: consoleLogger({ level: 'warn' }),
    jobs: [{ name: 'daily-report', schedule: '0 8 * * *', executor: 'sendReport' }],
  });
  // A scheduler typed by its executors is still a Scheduler (what cronRouter and createCronHandler take).
  const untyped: Scheduler = scheduler;
  await scheduler.trigger({ executor: 'sendReport', params: { replyTo: 'ops@example.com' } });
  // @ts-expect-error an executor this scheduler does not have
  await scheduler.trigger({ executor: 'sendReports' });
  // @ts-expect-error a param of the wrong type
  await scheduler.trigger({ executor: 'sendReport', params: { recipients: 'all' } });
  await untyped.trigger({ executor: 'registered-elsewhere' });
  scheduler.on('run:failed', ({ run }) => {
    const error: { code: string; message: string } | null = run.error;
    console.error(run.jobName, error?.message);
  });
  await scheduler.start();

  const job: Job = await scheduler.jobs.create({
    name: 'hourly-report',
    schedule: 'every_N_hours'.replace('N', '2'),
    executor: 'sendReport',
    params: { recipients: 5 },
    overlap: 'queue',
  });
  const run: Run = await scheduler.trigger({ job: job.name, triggeredBy: 'admin' });
  await scheduler.schedule({
    executor: 'sendReport',
    at: new Date(Date.now() + 60_000),
    params: { recipients: 1 },
  });
  const page = await scheduler.runs.list({ status: 'failed', limit: 20 });
  const next: string | null = page.nextCursor;
  const due = await scheduler.runDue();
  const executed: number = due.summary.executed;
  const stats = await scheduler.stats({ days: 7 });
  console.log(run.id, next, executed, stats.successRate, parseSchedule('daily').describe('en'));
  // @ts-expect-error a run status is one of the known ones
  const status: Run['status'] = 'done';
  console.log(status);

  try {
    await scheduler.trigger({ job: 'hourly-report' });
  } catch (error) {
    if (error instanceof ConflictError) console.log(error.runningRunId);
    else if (error instanceof ValidationError) console.log(error.issues.map((issue) => issue.path));
    else throw error;
  }
  const failure: CronkeeperError['code'] = 'VALIDATION';
  console.log(failure, migrationSql({ schema: 'app' }).length);

  const server = express();
  server.use('/api/cron', cronRouter(scheduler, { authorize: allowAll, dashboard: true }));
  server.use(
    '/admin/cron',
    cronRouter(scheduler, {
      authorize: (req, action) => req.get('authorization') === 'Bearer admin' || action === 'jobs:read',
      actor: (req) => req.get('x-user') ?? null,
      rateLimits: false,
    }),
  );
  const handle: CronHandler = createCronHandler(scheduler, {
    basePath: '/api/cron',
    authorize: (request, action) =>
      request.headers.get('authorization') === 'Bearer admin' || action === 'jobs:read',
  });
  const response: Response = await handle(new Request('http://localhost/api/cron/jobs'));
  console.log(response.status);
  await scheduler.stop({ grace: '30s' });
  return scheduler;
}
