// Compiled by `pnpm typecheck`: each @ts-expect-error line must stay an error, so a regression in
// the typing of executors (a name or a params type no longer checked) fails the build.
import { memoryStore } from '@cronkeeper/adapter-memory';
import {
  type AuditPage,
  type BackfillResult,
  createScheduler,
  defineExecutor,
  type Executor,
  type ExecutorMap,
  type ExecutorParams,
  type HealthReport,
  type Job,
  type JobDryRun,
  type JsonObject,
  type JsonValue,
  type PreviewResult,
  type Run,
  type Scheduler,
  type TypedScheduler,
} from '@cronkeeper/core';
import { expectTypeOf } from 'vitest';
import { z } from 'zod';

const executors = {
  'email.send': defineExecutor({
    params: z.object({ to: z.string().email(), retries: z.number().int().default(1) }),
    run: ({ params }) => params.to,
  }),
  'report.build': defineExecutor({
    params: z.object({
      format: z.enum(['pdf', 'csv']),
      since: z.string().optional(),
      page: z.coerce.number(),
    }),
    run: ({ params }) => params.format,
  }),
  ping: defineExecutor({ run: () => 'pong' }),
  inline: { run: (ctx) => Object.keys(ctx.params).length },
} satisfies ExecutorMap;
type Executors = typeof executors;

const scheduler = createScheduler({ store: memoryStore(), executors });
expectTypeOf(scheduler).toEqualTypeOf<TypedScheduler<Executors>>();

// Params are the schema's input, each field optional (defaults, job and run params merge first).
expectTypeOf<ExecutorParams<Executors, 'email.send'>>().toEqualTypeOf<{
  to?: string;
  retries?: number | undefined;
}>();
expectTypeOf<ExecutorParams<Executors, 'report.build'>>().toEqualTypeOf<{
  format?: 'pdf' | 'csv';
  since?: string | undefined;
  page?: JsonValue;
}>();
expectTypeOf<ExecutorParams<Executors, 'ping'>>().toEqualTypeOf<JsonObject>();
expectTypeOf<ExecutorParams<Executors, 'inline'>>().toEqualTypeOf<JsonObject>();

export async function typedCalls(job: Job) {
  // Known executors with well-typed params compile.
  await scheduler.jobs.create({
    name: 'welcome',
    schedule: '@daily',
    executor: 'email.send',
    params: { to: 'a@example.com' },
  });
  await scheduler.jobs.create({
    name: 'reports',
    schedule: '@weekly',
    tasks: ['ping', { executor: 'report.build', params: { format: 'csv', since: '2026-01-01', page: '2' } }],
  });
  await scheduler.trigger({ executor: 'email.send', params: { to: 'b@example.com', retries: 3 } });
  await scheduler.trigger({ job: 'welcome', params: { anything: true } });
  await scheduler.trigger({ executor: 'cronkeeper.cleanupStale' });
  await scheduler.schedule({
    executor: 'report.build',
    at: '2026-06-01T00:00:00Z',
    params: { format: 'pdf' },
  });
  await scheduler.jobs.update('welcome', { executor: 'ping', params: { free: ['form'] } });
  // A job as read writes back, and creates a copy.
  await scheduler.jobs.update(job.name, { ...job, description: 'edited' });
  await scheduler.jobs.create(job);

  // @ts-expect-error unknown executor in jobs.create
  await scheduler.jobs.create({ name: 'x', schedule: '@daily', executor: 'email.sned' });
  // @ts-expect-error wrongly typed params in jobs.create
  await scheduler.jobs.create({ name: 'x', schedule: '@daily', executor: 'email.send', params: { to: 42 } });
  // @ts-expect-error a param the executor does not take
  await scheduler.jobs.create({
    name: 'x',
    schedule: '@daily',
    executor: 'email.send',
    params: { too: 'a' },
  });
  // @ts-expect-error unknown executor in a task
  await scheduler.jobs.create({ name: 'x', schedule: '@daily', tasks: ['ping', 'pong'] });
  const xlsx = { executor: 'report.build', params: { format: 'xlsx' } } as const;
  // @ts-expect-error wrongly typed task params
  await scheduler.jobs.create({ name: 'x', schedule: '@daily', tasks: [xlsx] });
  // @ts-expect-error unknown executor in trigger
  await scheduler.trigger({ executor: 'email' });
  // @ts-expect-error wrongly typed params in trigger
  await scheduler.trigger({ executor: 'email.send', params: { retries: 'three' } });
  // @ts-expect-error unknown executor in schedule
  await scheduler.schedule({ executor: 'report', at: '2026-06-01T00:00:00Z' });
  // @ts-expect-error wrongly typed params in schedule
  await scheduler.schedule({ executor: 'report.build', at: '2026-06-01T00:00:00Z', params: { format: 1 } });
  // The batch form takes the same typed inputs, and answers the runs in input order.
  expectTypeOf(
    await scheduler.schedule([
      { executor: 'report.build', at: '2026-06-01T00:00:00Z', params: { format: 'csv' } },
      { job: 'welcome', at: new Date('2026-06-01T00:00:00Z'), params: { anything: true } },
    ]),
  ).toEqualTypeOf<Run[]>();
  expectTypeOf(
    await scheduler.schedule({ executor: 'ping', at: '2026-06-01T00:00:00Z' }),
  ).toEqualTypeOf<Run>();
  // @ts-expect-error unknown executor in a batch of one-offs
  await scheduler.schedule([
    { executor: 'ping', at: '2026-06-01T00:00:00Z' },
    { executor: 'pong', at: '2026-06-01T00:00:00Z' },
  ]);
  // @ts-expect-error wrongly typed params in a batch of one-offs
  await scheduler.schedule([{ executor: 'email.send', at: '2026-06-01T00:00:00Z', params: { to: 42 } }]);
  // A dry run takes the same typed change and answers the job as it would be, with its next instants.
  expectTypeOf(
    await scheduler.jobs.update('welcome', { executor: 'ping' }, { dryRun: true }),
  ).toEqualTypeOf<JobDryRun>();
  expectTypeOf(await scheduler.jobs.update(job.name, job, { dryRun: true })).toEqualTypeOf<JobDryRun>();
  expectTypeOf(
    await scheduler.jobs.update('welcome', { description: 'x' }, { tenantId: 'acme', dryRun: false }),
  ).toEqualTypeOf<Job>();
  const maybeDry: boolean = Math.random() > 0.5;
  expectTypeOf(
    await scheduler.jobs.update('welcome', { description: 'x' }, { dryRun: maybeDry }),
  ).toEqualTypeOf<Job | JobDryRun>();
  // @ts-expect-error unknown executor in a dry run
  await scheduler.jobs.update('welcome', { executor: 'nope' }, { dryRun: true });
  // @ts-expect-error wrongly typed params in a dry run
  await scheduler.jobs.update('welcome', { executor: 'email.send', params: { to: 1 } }, { dryRun: true });
  // The operations calls are there on a typed scheduler, typed as on any Scheduler.
  expectTypeOf(await scheduler.audit.list({ job: 'welcome' })).toEqualTypeOf<AuditPage>();
  expectTypeOf(await scheduler.preview({ schedule: '@daily' })).toEqualTypeOf<PreviewResult>();
  expectTypeOf(
    await scheduler.backfill({ job: 'welcome', from: '2026-01-01', to: '2026-01-02' }),
  ).toEqualTypeOf<BackfillResult>();
  expectTypeOf(await scheduler.health()).toEqualTypeOf<HealthReport>();
  // @ts-expect-error backfill needs the end of its range
  await scheduler.backfill({ job: 'welcome', from: '2026-01-01' });
  // @ts-expect-error unknown executor in jobs.update
  await scheduler.jobs.update('welcome', { executor: 'nope' });
  // @ts-expect-error wrongly typed params in jobs.update
  await scheduler.jobs.update('welcome', { executor: 'email.send', params: { to: false } });
}

// The `jobs` option is checked against the executors given beside it.
createScheduler({
  store: memoryStore(),
  executors,
  jobs: [{ name: 'ok', schedule: '@daily', executor: 'ping' }],
});
createScheduler({
  store: memoryStore(),
  executors,
  // @ts-expect-error unknown executor in the jobs option
  jobs: [{ name: 'bad', schedule: '@daily', executor: 'pong' }],
});

// register() returns the scheduler typed with the executor it added.
const extended = scheduler.register(
  'invoice.issue',
  defineExecutor({ params: z.object({ amount: z.number() }), run: ({ params }) => params.amount }),
);
await extended.trigger({ executor: 'invoice.issue', params: { amount: 12 } });
await extended.trigger({ executor: 'ping' });
// @ts-expect-error wrongly typed params of a registered executor
await extended.trigger({ executor: 'invoice.issue', params: { amount: '12' } });
// @ts-expect-error the scheduler register() was called on is typed as before
await scheduler.trigger({ executor: 'invoice.issue' });

// Widening: a typed scheduler is a Scheduler, which takes any name (checked when the call runs).
const loose: Scheduler = scheduler;
await loose.trigger({ executor: 'registered.elsewhere', params: { any: 'json' } });
function mount(target: Scheduler): Scheduler {
  return target;
}
mount(scheduler);
mount(extended);

// Without executors (or with a Record<string, …> of them) the scheduler takes any name.
const untyped = createScheduler({ store: memoryStore() });
expectTypeOf(untyped).toEqualTypeOf<Scheduler>();
untyped.register('later', defineExecutor({ run: () => null }));
await untyped.trigger({ executor: 'later' });
const byRecord: Record<string, Executor> = {};
expectTypeOf(createScheduler({ store: memoryStore(), executors: byRecord })).toEqualTypeOf<Scheduler>();
