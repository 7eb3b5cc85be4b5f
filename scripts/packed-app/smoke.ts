// Runs the packed packages against real services, in the fresh app that installed them with npm:
// a job triggered and run to success on PostgreSQL and on Redis (with whichever pg and ioredis
// versions this pass installed), the Express router answering with the executors' JSON Schema, and
// the web-standard handler of @cronkeeper/http.
// A service is required when its variable is set (CI sets both) and skipped with a line otherwise.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { memoryStore } from '@cronkeeper/adapter-memory';
import { mongoStore } from '@cronkeeper/adapter-mongo';
import { postgresStore } from '@cronkeeper/adapter-postgres';
import { redisStore } from '@cronkeeper/adapter-redis';
import {
  ConflictError,
  CronkeeperError,
  createScheduler,
  defineExecutor,
  NotFoundError,
  RateLimitError,
  type Run,
  type Store,
  StoreError,
  ValidationError,
} from '@cronkeeper/core';
import { allowAll, cronRouter } from '@cronkeeper/express';
import { createCronHandler } from '@cronkeeper/http';
import express from 'express';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { z } from 'zod';

const executors = {
  sendReport: defineExecutor({
    params: z.object({ recipients: z.number().int().positive() }),
    defaults: { recipients: 3 },
    run: async (ctx) => ({ sent: ctx.params.recipients }),
  }),
};

/** Create a job on `store`, trigger it, run what is due and return the finished run. */
async function triggerAndRun(store: Store): Promise<Run> {
  const scheduler = createScheduler({ store, executors, logger: false, maintenanceJobs: false });
  await scheduler.jobs.create({ name: 'report', schedule: 'daily', executor: 'sendReport' });
  const run = await scheduler.trigger({ job: 'report', params: { recipients: 7 } });
  const due = await scheduler.runDue();
  assert.equal(due.summary.executed, 1, 'runDue executed the triggered run');
  const finished = await scheduler.runs.get(run.id);
  await scheduler.stop();
  return finished;
}

async function postgres(url: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const schema = `ck_packed_${randomUUID().slice(0, 8)}`;
  try {
    const run = await triggerAndRun(postgresStore({ pool, schema }));
    assert.equal(run.status, 'succeeded');
    assert.deepEqual(run.result, { sent: 7 });
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  }
}

async function redis(url: string): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 2 });
  const prefix = `{ck-packed-${randomUUID().slice(0, 8)}}`;
  try {
    const run = await triggerAndRun(redisStore({ redis: client, prefix }));
    assert.equal(run.status, 'succeeded');
    assert.deepEqual(run.result, { sent: 7 });
  } finally {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await client.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
    await client.quit();
  }
}

async function mongo(): Promise<void> {
  // No server needed to check the options: a client that is never connected.
  const client = new MongoClient('mongodb://127.0.0.1:1/app', { serverSelectionTimeoutMS: 100 });
  assert.ok(mongoStore({ db: client.db() }).capabilities);
  assert.throws(() => mongoStore({ db: client.db(), collectionPrefix: 'a b' }), ValidationError);
  await client.close();
}

async function router(): Promise<void> {
  const scheduler = createScheduler({ store: memoryStore(), executors, logger: false });
  const app = express();
  app.use('/api/cron', cronRouter(scheduler, { authorize: allowAll }));
  const server = app.listen(0);
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/api/cron/executors`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as { data: { name: string; paramsSchema: unknown }[] };
    const listed = body.data.find((executor) => executor.name === 'sendReport');
    const schema = listed?.paramsSchema as { properties?: { recipients?: { type?: string } } } | null;
    assert.equal(
      schema?.properties?.recipients?.type,
      'integer',
      'GET /executors lists the params JSON Schema',
    );
    const bad = await fetch(`http://127.0.0.1:${port}/api/cron/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name": ',
    });
    assert.equal(bad.status, 400);
  } finally {
    server.close();
    await scheduler.stop();
  }
}

async function handler(): Promise<void> {
  const scheduler = createScheduler({ store: memoryStore(), executors, logger: false });
  const handle = createCronHandler(scheduler, { basePath: '/api/cron', authorize: allowAll });
  const response = await handle(new Request('http://localhost/api/cron/executors'));
  assert.equal(response.status, 200);
  const body = (await response.json()) as { data: { name: string }[] };
  assert.ok(body.data.some((executor) => executor.name === 'sendReport'));
  assert.equal((await handle(new Request('http://localhost/elsewhere'))).status, 404);
  await scheduler.stop();
}

/** The built errors print and filter under their documented names, whatever the bundler renamed. */
async function errorNames(): Promise<void> {
  const errors: [CronkeeperError, string][] = [
    [new ValidationError('bad'), 'ValidationError'],
    [new NotFoundError('job', 'x'), 'NotFoundError'],
    [new ConflictError('taken'), 'ConflictError'],
    [new RateLimitError('slow down', 1), 'RateLimitError'],
    [new StoreError('down'), 'StoreError'],
    [new CronkeeperError('STORE', 'base'), 'CronkeeperError'],
  ];
  for (const [error, name] of errors) {
    assert.equal(error.name, name);
    assert.ok(String(error.stack).startsWith(`${name}: `), `${name}'s stack starts with its name`);
  }
  const scheduler = createScheduler({ store: memoryStore(), executors, logger: false });
  await assert.rejects(scheduler.jobs.create({ name: 'x', schedule: 'nope', executor: 'sendReport' }), {
    name: 'ValidationError',
  });
  await scheduler.stop();
}

const checks: [string, string | undefined, () => Promise<void>][] = [
  ['error names', 'offline', errorNames],
  ['PostgreSQL', process.env.CRONKEEPER_PG_URL, () => postgres(process.env.CRONKEEPER_PG_URL as string)],
  ['Redis', process.env.CRONKEEPER_REDIS_URL, () => redis(process.env.CRONKEEPER_REDIS_URL as string)],
  ['MongoDB options', 'offline', mongo],
  ['Express router', 'offline', router],
  ['web-standard handler', 'offline', handler],
];
for (const [name, configured, check] of checks) {
  if (!configured) {
    console.log(`skipped ${name}: its URL variable is not set`);
    continue;
  }
  await check();
  console.log(`ok      ${name}`);
}
