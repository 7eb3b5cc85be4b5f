import { memoryStore } from '@cronkeeper/adapter-memory';
import {
  ConflictError,
  createScheduler,
  type JobInput,
  manualClock,
  NotFoundError,
  type Run,
  type ScheduleInput,
  type Scheduler,
  ValidationError,
} from '@cronkeeper/core';
import { describe, expect, it, vi } from 'vitest';
import { fakeTimeScheduler } from './helpers.js';

const executors = { echo: { run: () => 'ok' }, other: { run: () => 'ok' } };

async function setup(options: Parameters<typeof fakeTimeScheduler>[2] = {}) {
  const env = fakeTimeScheduler('2026-03-10T10:00:00Z', executors, options);
  for (const tenantId of [null, 'acme'])
    await env.scheduler.jobs.create({ name: 'report', tenantId, schedule: '@yearly', executor: 'echo' });
  const later = (minutes: number) => new Date(env.clock.now().getTime() + minutes * 60_000);
  return { ...env, later };
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: unknown) => error,
  );

async function pendingRuns(scheduler: Scheduler): Promise<Run[]> {
  return (await scheduler.runs.list({ status: 'pending', limit: 500 })).items;
}

describe('schedule([...]): many one-offs in one call', () => {
  it('creates every run in input order, each as the single form would, in one store write', async () => {
    const { scheduler, store, later } = await setup();
    const created = vi.fn();
    scheduler.on('run:created', created);
    const createRun = vi.spyOn(store, 'createRun');
    const createRuns = vi.spyOn(store, 'createRuns');
    const inputs: ScheduleInput[] = Array.from({ length: 300 }, (_, index) =>
      index % 3 === 0
        ? { job: 'report', tenantId: index === 0 ? 'acme' : null, at: later(index + 1), params: { index } }
        : { executor: index % 3 === 1 ? 'echo' : 'other', at: later(index + 1), createdBy: 'importer' },
    );
    const runs = await scheduler.schedule(inputs);
    expect(runs).toHaveLength(300);
    runs.forEach((run, index) => {
      expect(run.trigger).toBe('once');
      expect(run.runAt).toEqual(later(index + 1));
      expect(run.scheduledFor).toEqual(later(index + 1));
    });
    expect(runs[0]).toMatchObject({ jobName: 'report', tenantId: 'acme', params: { index: 0 } });
    expect(runs[1]).toMatchObject({ jobName: null, executor: 'echo', triggeredBy: 'importer' });
    expect(runs[2]).toMatchObject({ executor: 'other' });
    // The single form's run, for the same input, differs only in its identity.
    const single = await scheduler.schedule(inputs[0] as ScheduleInput);
    const { id: _a, ...fromBatch } = runs[0] as Run;
    const { id: _b, ...fromSingle } = single;
    expect(fromBatch).toEqual(fromSingle);
    expect(createRuns).toHaveBeenCalledTimes(1);
    expect(createRun).toHaveBeenCalledTimes(1);
    expect(created).toHaveBeenCalledTimes(301);
    expect(created.mock.calls[0]?.[0].run.id).toBe(runs[0]?.id);
    expect(await pendingRuns(scheduler)).toHaveLength(301);
  });

  it('looks each job up once for the whole batch', async () => {
    const { scheduler, store, later } = await setup();
    const lookups = vi.spyOn(store, 'findJobByName');
    await scheduler.schedule(
      Array.from({ length: 50 }, (_, index) => ({ job: 'report', at: later(index + 1) })),
    );
    expect(lookups).toHaveBeenCalledTimes(1);
  });

  it('refuses the whole batch, naming each bad input by its index, and writes nothing', async () => {
    const { scheduler, later, clock } = await setup();
    const error = await refusal(
      scheduler.schedule([
        { executor: 'echo', at: later(1) },
        { executor: 'echo', at: new Date(clock.now().getTime() - 1) },
        { executor: 'echo', at: 'not a date' },
        { executor: 'echo', job: 'report', at: later(1) },
      ]),
    );
    expect(error).toBeInstanceOf(ValidationError);
    const paths = (error as ValidationError).issues.map((issue) => issue.path);
    expect(paths).toEqual(expect.arrayContaining(['runs.1.at', 'runs.2.at', 'runs.3.job']));
    expect(paths.every((path) => path.startsWith('runs.'))).toBe(true);
    expect(await pendingRuns(scheduler)).toHaveLength(0);
  });

  it('applies the tenant rules to every input: a tenant may not name a built-in executor, nor see another tenant’s job', async () => {
    const { scheduler, later } = await setup();
    const builtIn = await refusal(
      scheduler.schedule([
        { executor: 'echo', tenantId: 'acme', at: later(1) },
        { executor: 'cronkeeper.cleanupStale', tenantId: 'acme', at: later(1) },
      ]),
    );
    expect(builtIn).toBeInstanceOf(ValidationError);
    expect((builtIn as ValidationError).path).toBe('runs.1.executor');
    const unknown = await refusal(
      scheduler.schedule([
        { job: 'report', tenantId: 'acme', at: later(1) },
        { job: 'report', tenantId: 'globex', at: later(1) },
      ]),
    );
    expect(unknown).toBeInstanceOf(NotFoundError);
    const unregistered = await refusal(scheduler.schedule([{ executor: 'nope', at: later(1) }]));
    expect((unregistered as ValidationError).path).toBe('runs.0.executor');
    expect(await pendingRuns(scheduler)).toHaveLength(0);
  });

  it("counts the whole batch against a tenant's caps: over the cap, nothing is created", async () => {
    const { scheduler, later } = await setup({ oneOffLimits: { perJob: 3, perTenant: 5 } });
    await scheduler.schedule({ job: 'report', tenantId: 'acme', at: later(1) });
    const overJob = await refusal(
      scheduler.schedule([1, 2, 3].map((minute) => ({ job: 'report', tenantId: 'acme', at: later(minute) }))),
    );
    expect(overJob).toBeInstanceOf(ConflictError);
    expect((overJob as Error).message).toMatch(
      /job "report" already has 1 pending runs.*the 3 asked for would pass it/,
    );
    const overTenant = await refusal(
      scheduler.schedule([
        { job: 'report', tenantId: 'acme', at: later(2) },
        ...[1, 2, 3, 4].map((minute) => ({
          executor: minute % 2 === 0 ? 'echo' : 'other',
          tenantId: 'acme',
          at: later(minute),
        })),
      ]),
    );
    expect((overTenant as Error).message).toMatch(/tenant "acme" already has 1 pending runs/);
    expect(await pendingRuns(scheduler)).toHaveLength(1);
    // Up to the caps, and global one-offs are not capped.
    await scheduler.schedule(
      [2, 3].map((minute) => ({ job: 'report', tenantId: 'acme', at: later(minute) })),
    );
    await scheduler.schedule(
      Array.from({ length: 20 }, (_, index) => ({ job: 'report', at: later(index + 1) })),
    );
    expect(await pendingRuns(scheduler)).toHaveLength(23);
  });

  it('calls every beforeCreate with its target before writing; a throw in one creates none', async () => {
    const { scheduler, later } = await setup();
    const seen: unknown[] = [];
    const error = await refusal(
      scheduler.schedule([
        { executor: 'echo', at: later(1), beforeCreate: (target) => void seen.push(target) },
        {
          job: 'report',
          tenantId: 'acme',
          at: later(2),
          beforeCreate: () => {
            throw new ConflictError('over the hourly budget');
          },
        },
      ]),
    );
    expect((error as Error).message).toBe('over the hourly budget');
    expect(seen).toEqual([{ job: null, executor: 'echo', tenantId: null, at: later(1) }]);
    expect(await pendingRuns(scheduler)).toHaveLength(0);
  });

  it('answers an empty batch with no runs, and refuses what is not a list of inputs', async () => {
    const { scheduler } = await setup();
    expect(await scheduler.schedule([])).toEqual([]);
    expect(await refusal(scheduler.schedule([null as unknown as ScheduleInput]))).toBeInstanceOf(
      ValidationError,
    );
  });
});

describe('jobs.seed: many jobs written in chunks', () => {
  const definitions = (count: number, overrides: Partial<JobInput> = {}): JobInput[] =>
    Array.from({ length: count }, (_, index) => ({
      name: `job-${String(index).padStart(5, '0')}`,
      schedule: index % 2 === 0 ? '*/5 * * * *' : '@hourly',
      executor: 'echo',
      ...overrides,
    }));

  it('writes through one bulk insert, never job by job, and reports every name created', async () => {
    const { scheduler, store } = fakeTimeScheduler('2026-03-10T10:00:00Z', executors);
    const insertJob = vi.spyOn(store, 'insertJob');
    const insertJobs = vi.spyOn(store, 'insertJobs');
    const changed = vi.fn();
    scheduler.on('job:changed', changed);
    const inputs = definitions(1_500);
    const result = await scheduler.jobs.seed(inputs);
    expect(result.created).toEqual(inputs.map((input) => input.name));
    expect(result).toMatchObject({ updated: [], unchanged: [] });
    expect(insertJob).not.toHaveBeenCalled();
    expect(insertJobs).toHaveBeenCalledTimes(1);
    expect(changed).toHaveBeenCalledTimes(1_500);
    const job = await scheduler.jobs.get('job-00001');
    expect(job.nextRunAt).toEqual(new Date('2026-03-10T11:00:00Z'));
    const audit = await scheduler.audit.list({ job: 'job-00001' });
    expect(audit.items.map((entry) => entry.action)).toEqual(['seeded']);
  });

  it('audits each seeded job with its whole definition as JSON, as the job reads back, whatever it holds', async () => {
    const { scheduler } = fakeTimeScheduler('2026-03-10T10:00:00Z', executors);
    const params = JSON.parse(
      '{"__proto__":{"polluted":true},"list":[1,"two",null,{"deep":[true]}],"zero":-0}',
    );
    const rich: JobInput = {
      name: 'rich',
      description: 'every field set',
      schedule: ' 0 9 * * 1-5 ',
      timezone: 'Europe/Paris',
      tasks: ['echo', { executor: 'other', enabled: false, params: { step: 'ü\u2028' } }],
      params,
      enabled: false,
      pausedNote: 'not yet',
      overlap: 'queue',
      misfire: 'all',
      catchUpLimit: 3,
      misfireGrace: '5m',
      timeout: '1h',
      retry: { limit: 2, backoff: { type: 'exponential', delay: '1s', max: '1m' } },
      autoPause: { afterFailures: 4 },
      jitter: '10s',
      priority: -7,
      activeFrom: '2026-04-01T00:00:00+02:00',
      activeUntil: new Date('2027-01-01T00:00:00Z'),
      metadata: { owner: { team: 'ops' }, tags: [] },
      createdBy: 'importer',
    };
    // Same schedule as `rich`, but the zone and the windows differ: each has its own next slot.
    const siblings: JobInput[] = [
      { name: 'paris', schedule: '0 9 * * 1-5', timezone: 'Europe/Paris', executor: 'echo' },
      { name: 'utc', schedule: '0 9 * * 1-5', executor: 'echo' },
      { name: 'later', schedule: '0 9 * * 1-5', executor: 'echo', activeFrom: '2026-03-20T00:00:00Z' },
      { name: 'utc-2', schedule: '0 9 * * 1-5', executor: 'echo', params: { zero: -0 } },
    ];
    await scheduler.jobs.seed([rich, ...siblings]);
    const jobs = await scheduler.jobs.list();
    expect(jobs.map((job) => [job.name, job.nextRunAt?.toISOString() ?? null])).toEqual([
      ['later', '2026-03-20T09:00:00.000Z'],
      ['paris', '2026-03-11T08:00:00.000Z'],
      ['rich', null],
      ['utc', '2026-03-11T09:00:00.000Z'],
      ['utc-2', '2026-03-11T09:00:00.000Z'],
    ]);
    // Jobs on one schedule do not share their next slot: moving one moves only it.
    const [utc, utc2] = jobs.filter((job) => job.name.startsWith('utc'));
    expect(utc?.nextRunAt).not.toBe(utc2?.nextRunAt);
    const fields = [
      'name',
      'description',
      'schedule',
      'timezone',
      'tasks',
      'params',
      'enabled',
      'pausedNote',
      'overlap',
      'misfire',
      'catchUpLimit',
      'misfireGraceMs',
      'timeoutMs',
      'retry',
      'autoPause',
      'jitterMs',
      'priority',
      'activeFrom',
      'activeUntil',
      'metadata',
    ] as const;
    for (const job of jobs) {
      const { items } = await scheduler.audit.list({ job: job.name });
      expect(items).toHaveLength(1);
      const definition = Object.fromEntries(fields.map((field) => [field, job[field]]));
      expect(items[0]).toMatchObject({
        action: 'seeded',
        actor: job.name === 'rich' ? 'importer' : null,
        before: null,
        after: JSON.parse(JSON.stringify(definition)),
      });
    }
    const after = (await scheduler.audit.list({ job: 'rich' })).items[0]?.after as Record<string, unknown>;
    expect(Object.keys(after)).toEqual([...fields]);
    expect(after).toMatchObject({
      activeFrom: '2026-03-31T22:00:00.000Z',
      activeUntil: '2027-01-01T00:00:00.000Z',
      retry: { limit: 2, backoff: { type: 'exponential', delay: 1000, max: 60_000 } },
    });
    const stored = after.params as Record<string, unknown>;
    expect(Object.keys(stored)).toEqual(['__proto__', 'list', 'zero']);
    expect(Object.is(stored.zero, 0)).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('stays idempotent when two instances seed the same jobs at once: each is created once', async () => {
    const store = memoryStore();
    const clock = manualClock('2026-03-10T10:00:00Z');
    const make = () =>
      createScheduler({ store, clock, executors, logger: false, maintenanceJobs: false }) as Scheduler;
    const inputs = definitions(400);
    const [a, b] = await Promise.all([make().jobs.seed(inputs), make().jobs.seed(inputs)]);
    expect([...a.created, ...b.created].sort()).toEqual(inputs.map((input) => input.name));
    expect(a.unchanged.length + b.unchanged.length).toBe(400);
    expect(await store.listJobs({})).toHaveLength(400);
  });

  it('leaves existing jobs alone, or updates them with overwrite, and creates the new ones beside them', async () => {
    const { scheduler } = fakeTimeScheduler('2026-03-10T10:00:00Z', executors);
    await scheduler.jobs.create({
      name: 'job-00000',
      schedule: '@daily',
      executor: 'echo',
      tenantId: 'acme',
    });
    await scheduler.jobs.create({ name: 'job-00001', schedule: '@daily', executor: 'echo' });
    const plain = await scheduler.jobs.seed(definitions(3));
    expect(plain).toEqual({ created: ['job-00000', 'job-00002'], updated: [], unchanged: ['job-00001'] });
    expect((await scheduler.jobs.get('job-00001')).schedule).toBe('@daily');
    const overwritten = await scheduler.jobs.seed(definitions(4, { description: 'v2' }), { overwrite: true });
    expect(overwritten).toEqual({
      created: ['job-00003'],
      updated: ['job-00000', 'job-00001', 'job-00002'],
      unchanged: [],
    });
    expect(await scheduler.jobs.get('job-00001')).toMatchObject({ schedule: '@hourly', description: 'v2' });
    // The tenant's job of the same name was not the global one, and stays as it was.
    expect((await scheduler.jobs.get('job-00000', { tenantId: 'acme' })).schedule).toBe('@daily');
  });

  it('refuses the whole seed, naming the entry, when one is invalid, and writes nothing', async () => {
    const { scheduler, store } = fakeTimeScheduler('2026-03-10T10:00:00Z', executors);
    const inputs = definitions(600);
    inputs[512] = { ...inputs[512], schedule: '61 * * * *' } as JobInput;
    inputs[513] = { ...inputs[513], tenantId: 'acme', executor: 'cronkeeper.cleanupStale' } as JobInput;
    const error = await refusal(scheduler.jobs.seed(inputs));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).path).toBe('jobs.512.schedule');
    inputs[512] = definitions(513)[512] as JobInput;
    const tenant = await refusal(scheduler.jobs.seed(inputs));
    expect((tenant as ValidationError).path).toBe('jobs.513.executor');
    expect(await store.listJobs({})).toHaveLength(0);
  });
});
