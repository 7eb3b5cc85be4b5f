import { memoryStore } from '@cronkeeper/adapter-memory';
import {
  CronkeeperError,
  createScheduler,
  defineExecutor,
  type Run,
  type Scheduler,
  type Store,
  StoreError,
  ValidationError,
} from '@cronkeeper/core';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  corrupt,
  date,
  executorName,
  jobFields,
  jobName,
  junk,
  maybe,
  params,
  record,
  runStatus,
  runTrigger,
  tenantId,
  validJob,
  validTarget,
} from './bad-input-arbitraries.js';
import {
  expectCreated,
  expectJobChange,
  expectListed,
  expectRunAnswer,
  expectRunCreated,
  expectUpdated,
} from './bad-input-stored.js';

/**
 * Bad input through the public API, property-based on the memory store: every call either
 * succeeds or rejects with a typed Cronkeeper error (stable `code`; a `ValidationError` names the
 * offending field), a rejected call changes nothing stored, and the scheduler's loop keeps
 * working afterwards. Runs without services.
 */

const NUM_RUNS = Number(process.env.CRONKEEPER_CHAOS_PROPERTY_RUNS ?? 150);
const CODES = new Set(['VALIDATION', 'NOT_FOUND', 'CONFLICT', 'RATE_LIMITED']);

let store: Store;
let scheduler: Scheduler;
let pendingRun: Run;
let finishedRun: Run;
let loopErrors: string[];
/** Calls accepted and rejected in the current test: each property must exercise both. */
let tally = { accepted: 0, rejected: 0 };

async function snapshot(): Promise<string> {
  const runs: Run[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listRuns({ limit: 500, cursor });
    runs.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return JSON.stringify({ jobs: await store.listJobs({}), runs });
}

/**
 * Call `action`: a success must have stored what was asked (`stored` checks it against the
 * input); a failure must be a typed error with a field path when it is about validation, and must
 * leave the store exactly as it was.
 */
async function expectTypedOrOk<T>(
  action: () => Promise<T>,
  stored: (outcome: T) => Promise<void> | void,
): Promise<void> {
  const before = await snapshot();
  let outcome: T;
  try {
    outcome = await action();
  } catch (error) {
    if (!(error instanceof CronkeeperError) || error instanceof StoreError)
      throw new Error(`untyped failure: ${String(error)}`, { cause: error });
    expect(CODES).toContain(error.code);
    expect(error.message.length).toBeGreaterThan(0);
    if (error instanceof ValidationError) {
      expect(error.issues.length).toBeGreaterThan(0);
      for (const issue of error.issues) expect(typeof issue.path).toBe('string');
      expect(error.path, error.message).not.toBe('');
    }
    expect(await snapshot()).toBe(before);
    tally.rejected++;
    return;
  }
  await stored(outcome);
  tally.accepted++;
}

const property = <T>(arbitrary: fc.Arbitrary<T>, check: (value: T) => Promise<void>) =>
  fc.assert(fc.asyncProperty(arbitrary, check), { numRuns: NUM_RUNS });

describe('bad input through the public API (memory store)', () => {
  beforeEach(async () => {
    store = memoryStore();
    loopErrors = [];
    tally = { accepted: 0, rejected: 0 };
    scheduler = createScheduler({
      store,
      logger: false,
      maintenanceJobs: false,
      pollInterval: '20ms',
      executors: {
        ok: { run: () => 'done' },
        typed: defineExecutor({ params: z.object({ n: z.number().int() }), run: (ctx) => ctx.params.n }),
      },
    });
    scheduler.on('scheduler:error', ({ operation, error }) =>
      loopErrors.push(`${operation}: ${error.message}`),
    );
    // Yearly schedules: nothing fires while the properties run, so the store only changes by our calls.
    await scheduler.jobs.create({ name: 'known', schedule: '0 0 1 1 *', executor: 'ok' });
    await scheduler.jobs.create({
      name: 'other',
      tenantId: 'acme',
      schedule: '0 0 1 1 *',
      executor: 'typed',
    });
    pendingRun = await scheduler.schedule({ executor: 'ok', at: new Date(Date.now() + 365 * 86_400_000) });
    finishedRun = await scheduler.trigger({ job: 'known' });
    await scheduler.runDue();
  });

  /** The loop still works after the barrage: it fires, claims and executes, and reports no error. */
  async function expectLoopHealthy(): Promise<void> {
    await scheduler.start();
    const run = await scheduler.trigger({ executor: 'ok', force: true });
    const deadline = Date.now() + 5_000;
    while ((await scheduler.runs.get(run.id)).status !== 'succeeded' && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    await scheduler.stop();
    expect((await scheduler.runs.get(run.id)).status).toBe('succeeded');
    expect(loopErrors).toEqual([]);
    expect(tally.accepted, 'some calls were valid').toBeGreaterThan(0);
    expect(tally.rejected, 'some calls were rejected').toBeGreaterThan(0);
  }

  it('jobs.create: random names, schedules, zones, durations, dates and params', async () => {
    await property(
      corrupt(validJob, { ...jobFields, tenantId, createdBy: maybe(fc.string()) }),
      async (input) => {
        await expectTypedOrOk(
          () => scheduler.jobs.create(input as never),
          (job) => expectCreated(scheduler, input, job),
        );
      },
    );
    // Whatever was accepted must be runnable: the loop fires and plans every stored job.
    await scheduler.runDue();
    await expectLoopHealthy();
  });

  it('jobs.update / pause / resume / delete on known, missing and malformed names', async () => {
    // Mostly the known job in no scope: with every argument drawn wild, nearly every call is refused
    // and a run could pass without one accepted change to check.
    const name = fc.oneof({ arbitrary: fc.constant('known'), weight: 2 }, { arbitrary: jobName, weight: 3 });
    const scope = fc.oneof(
      { arbitrary: fc.constant(undefined), weight: 2 },
      { arbitrary: maybe(record({ tenantId })), weight: 3 },
    );
    await property(
      fc.tuple(name, record({ ...jobFields, updatedBy: maybe(fc.string()) }), scope, fc.nat(4)),
      async ([name, patch, where, which]) => {
        // An accepted delete or rename takes `known` away; bring it back so later calls can hit it.
        if (!(await store.findJobByName(null, 'known')))
          await scheduler.jobs.create({ name: 'known', schedule: '0 0 1 1 *', executor: 'ok' });
        const key = name as string;
        const tenant = ((where as { tenantId?: string | null } | undefined)?.tenantId ?? null) as
          | string
          | null;
        const readable = typeof key === 'string' && (tenant === null || typeof tenant === 'string');
        const before = readable ? await store.findJobByName(tenant, key) : null;
        if (which === 0) {
          await expectTypedOrOk(
            () => scheduler.jobs.update(key, patch as never, where as never),
            (job) => expectUpdated(scheduler, before, patch, job),
          );
          return;
        }
        const kind = (['pause', 'resume', 'get', 'delete'] as const)[which - 1] as
          | 'pause'
          | 'resume'
          | 'get'
          | 'delete';
        const call = {
          pause: () => scheduler.jobs.pause(key, patch.description as never, where as never),
          resume: () => scheduler.jobs.resume(key, where as never),
          get: () => scheduler.jobs.get(key, where as never),
          delete: () => scheduler.jobs.delete(key, where as never).then(() => 'deleted'),
        }[kind] as () => Promise<unknown>;
        await expectTypedOrOk(call, (outcome) =>
          expectJobChange(scheduler, store, kind, key, tenant, outcome, patch.description),
        );
      },
    );
    await scheduler.runDue();
    await expectLoopHealthy();
  });

  it('trigger and schedule: random targets, params, tenants and dates', async () => {
    const target = corrupt(validTarget, { job: jobName, executor: executorName, params, tenantId });
    await property(
      fc.tuple(
        target,
        maybe(fc.boolean()),
        maybe(fc.string({ maxLength: 10 })),
        date,
        fc.integer({ min: -86_400_000, max: 86_400_000 }),
        fc.boolean(),
      ),
      async ([input, force, by, at, offset, useOffset]) => {
        const when = useOffset ? new Date(Date.now() + offset) : at;
        await expectTypedOrOk(
          () => scheduler.trigger({ ...input, force, triggeredBy: by } as never),
          (run) => expectRunCreated(store, input, run, { trigger: 'manual', by }),
        );
        await expectTypedOrOk(
          () => scheduler.schedule({ ...input, at: when, createdBy: by } as never),
          (run) => expectRunCreated(store, input, run, { trigger: 'once', by, at: when }),
        );
      },
    );
    await scheduler.runDue();
    await expectLoopHealthy();
  });

  it('runs.list, runs.get and cancel: random filters, cursors and ids', async () => {
    const filter = record({
      tenantId,
      includeGlobal: maybe(fc.boolean()),
      status: fc.oneof(runStatus, fc.array(runStatus, { maxLength: 8 })),
      job: jobName,
      executor: executorName,
      trigger: fc.oneof(runTrigger, fc.array(runTrigger, { maxLength: 6 })),
      since: date,
      until: date,
      limit: maybe(fc.integer({ min: -5, max: 600 })),
      cursor: fc.oneof(fc.constantFrom(null, 'eyJ4IjoxfQ', '!!', 'bm90IGpzb24'), fc.base64String(), junk),
    });
    const runId = fc.oneof(
      fc
        .constantFrom('pending', 'finished')
        .map((which) => (which === 'pending' ? pendingRun : finishedRun).id),
      fc.uuid(),
      junk,
    );
    await property(
      fc.tuple(filter, runId, maybe(record({ by: maybe(fc.string()), tenantId }))),
      async ([query, id, options]) => {
        await expectTypedOrOk(
          () => scheduler.runs.list(query as never),
          (page) => expectListed(query, page),
        );
        await expectTypedOrOk(
          () => scheduler.runs.get(id as string, options as never),
          (run) => expectRunAnswer(store, 'get', id as string, run),
        );
        await expectTypedOrOk(
          () => scheduler.cancel(id as string, options as never),
          (run) => expectRunAnswer(store, 'cancel', id as string, run),
        );
      },
    );
    await expectLoopHealthy();
  });
});
