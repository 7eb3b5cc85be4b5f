import {
  ConflictError,
  defineExecutor,
  type JobInput,
  NotFoundError,
  ValidationError,
} from '@cronkeeper/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fakeTimeScheduler } from './helpers.js';

const noop = { run: () => {} };

describe('jobs', () => {
  it('creates a job with defaults and its next slot in the job zone', async () => {
    const { scheduler } = fakeTimeScheduler('2026-03-01T10:00:00Z', { synchroFacture: noop });
    const job = await scheduler.jobs.create({
      name: 'morning-sync-3am',
      schedule: '0 3 * * *',
      timezone: 'Europe/Paris',
      executor: 'synchroFacture',
    });
    expect(job).toMatchObject({
      name: 'morning-sync-3am',
      tenantId: null,
      enabled: true,
      overlap: 'skip',
      misfire: 'once',
      catchUpLimit: 10,
      version: 1,
      runCount: 0,
    });
    expect(job.tasks).toEqual([{ executor: 'synchroFacture', enabled: true, params: {} }]);
    expect(job.nextRunAt?.toISOString()).toBe('2026-03-02T02:00:00.000Z');
    expect(await scheduler.jobs.get('morning-sync-3am')).toEqual(job);
  });

  it('groups several tasks in one job, each enabled or not', async () => {
    const { scheduler } = fakeTimeScheduler(undefined, { a: noop, b: noop });
    const job = await scheduler.jobs.create({
      name: 'j',
      schedule: 'daily',
      tasks: ['a', { executor: 'b', enabled: false, params: { x: 1 } }],
    });
    expect(job.tasks).toEqual([
      { executor: 'a', enabled: true, params: {} },
      { executor: 'b', enabled: false, params: { x: 1 } },
    ]);
  });

  it('rejects bad input naming the field, and stores nothing', async () => {
    const { scheduler } = fakeTimeScheduler(undefined, { a: noop });
    const cases: [unknown, string][] = [
      [{ name: 'j', schedule: 'nope', executor: 'a' }, 'schedule'],
      [{ name: 'j', schedule: 'daily', executor: 'a', timezone: 'Nowhere/City' }, 'timezone'],
      [{ name: 'j', schedule: 'daily', executor: 'unknown' }, 'executor'],
      [{ name: 'j', schedule: 'daily', tasks: ['a', 'zzz'] }, 'tasks.1'],
      [{ name: '', schedule: 'daily', executor: 'a' }, 'name'],
      [{ name: 'j', schedule: 'daily' }, 'executor'],
      [{ name: 'j', schedule: 'daily', executor: 'a', overlap: 'sometimes' }, 'overlap'],
      [{ name: 'j', schedule: 'daily', executor: 'a', timeout: '5 parsecs' }, 'timeout'],
      [{ name: 'j', schedule: 'daily', executor: 'a', unknownField: 1 }, ''],
      [
        { name: 'j', schedule: 'daily', executor: 'a', activeFrom: '2026-05-01', activeUntil: '2026-04-01' },
        'activeUntil',
      ],
    ];
    for (const [input, path] of cases) {
      const error = await scheduler.jobs.create(input as never).catch((caught: unknown) => caught);
      expect(error, JSON.stringify(input)).toBeInstanceOf(ValidationError);
      if (path)
        expect((error as ValidationError).issues.map((issue) => issue.path).join(' ')).toContain(path);
    }
    expect(await scheduler.jobs.list()).toEqual([]);
  });

  it('refuses params or metadata that refer to themselves, nest too deep or hold undefined in a list, naming where; a key holding undefined is left out', async () => {
    const { scheduler } = fakeTimeScheduler(undefined, { noop });
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { again: cyclic };
    let deep: unknown = 'leaf';
    for (let level = 0; level < 20_000; level += 1) deep = { d: deep };
    const refused = async (call: Promise<unknown>, path: unknown, message: RegExp) => {
      const error = await call.then(
        () => null,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues[0]?.path).toEqual(path);
      expect((error as ValidationError).message).toMatch(message);
    };
    const job = { name: 'nested', schedule: '@daily', executor: 'noop' };
    await refused(
      scheduler.jobs.create({ ...job, params: cyclic as never }),
      'params.self.again',
      /refers to itself/,
    );
    await refused(
      scheduler.jobs.create({ ...job, metadata: { deep } as never }),
      expect.stringMatching(/^metadata\.deep(\.d)+$/),
      /deeper than 100 levels/,
    );
    await refused(
      scheduler.trigger({ executor: 'noop', params: cyclic as never }),
      'params.self.again',
      /refers to itself/,
    );
    await refused(
      scheduler.schedule({ executor: 'noop', at: '2026-03-02T00:00:00Z', params: { deep } as never }),
      expect.stringMatching(/^params\.deep/),
      /deeper/,
    );
    expect((await scheduler.jobs.list()).length).toBe(0);
    expect((await scheduler.runs.list({})).items).toHaveLength(0);
    // undefined: a key holding it is left out, as JSON leaves it out; in a list it is refused.
    await refused(
      scheduler.trigger({ executor: 'noop', params: { list: [1, undefined] } as never }),
      'params.list.1',
      /undefined.*use null/,
    );
    const run = await scheduler.trigger({ executor: 'noop', params: { label: undefined, n: 1 } as never });
    expect(run.params).toEqual({ n: 1 });
    expect(Object.keys((await scheduler.runs.get(run.id)).params)).toEqual(['n']);
    // Unreadable: a getter that throws, a revoked proxy.
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    const throwing = {
      get a() {
        throw new Error('getter');
      },
    };
    await refused(
      scheduler.trigger({ executor: 'noop', params: throwing as never }),
      'params',
      /cannot be read/,
    );
    await refused(
      scheduler.trigger({ executor: 'noop', params: { x: revoked.proxy } as never }),
      'params.x',
      /cannot be read/,
    );
    // One object shared along a chain: a few dozen objects, 2^40 paths. Refused at once, not walked.
    let chain: Record<string, unknown> = { leaf: 1 };
    for (let level = 0; level < 40; level += 1) chain = { l: chain, r: chain };
    await refused(
      scheduler.trigger({ executor: 'noop', params: chain as never }),
      'params',
      /more than 1000000 values/,
    );
    // A Date, Map or class instance is no JSON object, at the top or inside.
    for (const [params, path] of [
      [new Date(Number.NaN), 'params'],
      [new Map([['a', 1]]), 'params'],
      [{ at: new Date() }, 'params.at'],
    ] as const)
      await refused(scheduler.trigger({ executor: 'noop', params: params as never }), path, /Invalid input/);
    // The same object twice, side by side, is no cycle.
    const shared = { x: 1 };
    await scheduler.jobs.create({ ...job, params: { one: shared, two: shared } });
    expect((await scheduler.jobs.get('nested')).params).toEqual({ one: { x: 1 }, two: { x: 1 } });
  });

  it('writes nothing for an update or overwriting seed that changes nothing, so an editor’s version still holds', async () => {
    const { scheduler } = fakeTimeScheduler(undefined, { noop });
    const job = await scheduler.jobs.create({
      name: 'steady',
      schedule: '@daily',
      executor: 'noop',
      description: 'd',
    });
    const changes: string[] = [];
    scheduler.on('job:changed', ({ change }) => changes.push(change));
    for (const patch of [{}, { description: 'd' }, { ...job }, { schedule: '@daily', updatedBy: 'deploy' }])
      expect(await scheduler.jobs.update('steady', patch)).toEqual(job);
    const seeded = await scheduler.jobs.seed(
      [{ name: 'steady', schedule: '@daily', executor: 'noop', description: 'd' }],
      {
        overwrite: true,
      },
    );
    expect(seeded).toEqual({ created: [], updated: [], unchanged: ['steady'] });
    expect(changes).toEqual([]);
    expect((await scheduler.audit.list({ job: 'steady' })).items.map((entry) => entry.action)).toEqual([
      'created',
    ]);
    // The editor who read version 1 still applies a guarded change.
    const edited = await scheduler.jobs.update('steady', { description: 'edited', version: job.version });
    expect(edited).toMatchObject({ description: 'edited', version: job.version + 1 });
    expect(changes).toEqual(['updated']);
  });

  it('refuses a listing filter no store could answer, naming the field, on jobs, stats and the dashboard', async () => {
    const { scheduler } = fakeTimeScheduler(undefined, { a: noop });
    const calls: [string, () => Promise<unknown>, string][] = [
      ['jobs.list NUL tenant', () => scheduler.jobs.list({ tenantId: 'a\u0000b' }), 'tenantId'],
      ['jobs.list enabled text', () => scheduler.jobs.list({ enabled: 'yes' as never }), 'enabled'],
      [
        'jobs.list includeGlobal text',
        () => scheduler.jobs.list({ includeGlobal: 1 as never }),
        'includeGlobal',
      ],
      ['jobs.list unknown field', () => scheduler.jobs.list({ tenant: 'x' } as never), ''],
      ['stats NUL tenant', () => scheduler.stats({ tenantId: 'a\u0000b' }), 'tenantId'],
      ['dashboard control tenant', () => scheduler.dashboard({ tenantId: 'a\u0001b' }), 'tenantId'],
      ['dashboard locale number', () => scheduler.dashboard({ locale: 5 as never }), 'locale'],
    ];
    for (const [label, call, path] of calls) {
      const error = await call().catch((caught: unknown) => caught);
      expect(error, label).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues.map((issue) => issue.path).join(' '), label).toContain(path);
    }
  });

  it("checks job and task params against the executor's schema when saved, leaving required ones to runs", async () => {
    const batch = defineExecutor({
      params: z.object({ batchSize: z.number().int().positive(), region: z.string() }),
      run: () => {},
    });
    const { scheduler } = fakeTimeScheduler(undefined, { batch });
    const wrongType = async (input: unknown) =>
      (await scheduler.jobs.create(input as never).catch((caught: unknown) => caught)) as ValidationError;
    const base = { name: 'j', schedule: 'daily', executor: 'batch' };
    expect((await wrongType({ ...base, params: { batchSize: 'many' } })).issues[0]?.path).toBe(
      'params.batchSize',
    );
    const taskError = await wrongType({
      name: 'j',
      schedule: 'daily',
      tasks: [{ executor: 'batch', params: { batchSize: -1 } }],
    });
    expect(taskError.issues[0]?.path).toBe('tasks.0.params.batchSize');
    expect(await scheduler.jobs.list()).toEqual([]);

    // `region` is required but may come with each run, so a job without it is accepted.
    await scheduler.jobs.create({ ...base, params: { batchSize: 10 } });
    const updateError = await scheduler.jobs
      .update('j', { params: { batchSize: 'ten' } } as never)
      .catch((caught: unknown) => caught);
    expect(updateError).toBeInstanceOf(ValidationError);
    expect((await scheduler.jobs.get('j')).params).toEqual({ batchSize: 10 });
  });

  it('keeps names unique per tenant, with global and tenant jobs side by side', async () => {
    const { scheduler } = fakeTimeScheduler(undefined, { a: noop });
    await scheduler.jobs.create({ name: 'offline', schedule: 'hourly', executor: 'a' });
    await scheduler.jobs.create({ name: 'offline', schedule: 'hourly', executor: 'a', tenantId: 't1' });
    await expect(
      scheduler.jobs.create({ name: 'offline', schedule: 'hourly', executor: 'a', tenantId: 't1' }),
    ).rejects.toBeInstanceOf(ConflictError);
    expect((await scheduler.jobs.list({ tenantId: 't1' })).map((job) => job.tenantId)).toEqual(['t1']);
    expect(await scheduler.jobs.list({ tenantId: 't1', includeGlobal: true })).toHaveLength(2);
    expect((await scheduler.jobs.get('offline', { tenantId: 't1' })).tenantId).toBe('t1');
    await expect(scheduler.jobs.get('offline', { tenantId: 't2' })).rejects.toBeInstanceOf(NotFoundError);
    // Looked up by name alone, a tenant's job is not found, and the error says where it may be.
    await scheduler.jobs.create({ name: 'acme-only', schedule: 'hourly', executor: 'a', tenantId: 't1' });
    await expect(scheduler.jobs.get('acme-only')).rejects.toThrow(
      /^job "acme-only" was not found \(among global jobs; a tenant's job is read with its tenantId\)$/,
    );
    // A tenant's own lookup names no other tenant's place to look.
    await expect(scheduler.jobs.get('acme-only', { tenantId: 't2' })).rejects.toThrow(
      /^job "acme-only" was not found$/,
    );
  });

  it('recomputes nextRunAt when the schedule changes, and bumps the version', async () => {
    const { scheduler, clock } = fakeTimeScheduler('2026-03-01T10:00:00Z', { a: noop });
    await scheduler.jobs.create({ name: 'j', schedule: '0 3 * * *', executor: 'a' });
    clock.advance('1m');
    const updated = await scheduler.jobs.update('j', {
      schedule: '0 4 * * *',
      description: 'Updated to 4 AM',
      updatedBy: 'ops',
    });
    expect(updated).toMatchObject({
      schedule: '0 4 * * *',
      description: 'Updated to 4 AM',
      version: 2,
      updatedBy: 'ops',
    });
    expect(updated.nextRunAt?.toISOString()).toBe('2026-03-02T04:00:00.000Z');
    expect(updated.updatedAt.toISOString()).toBe('2026-03-01T10:01:00.000Z');
    await expect(scheduler.jobs.update('j', { schedule: 'every_blue_moon' })).rejects.toBeInstanceOf(
      ValidationError,
    );
    expect((await scheduler.jobs.get('j')).schedule).toBe('0 4 * * *');
  });

  it('pauses with a note (no slot fires) and resumes from now', async () => {
    const { scheduler, clock } = fakeTimeScheduler('2026-03-01T00:00:00Z', { a: noop });
    await scheduler.jobs.create({ name: 'j', schedule: 'hourly', executor: 'a' });
    const paused = await scheduler.jobs.pause('j', 'maintenance window');
    expect(paused).toMatchObject({ enabled: false, pausedNote: 'maintenance window', nextRunAt: null });
    clock.advance('3h');
    expect((await scheduler.runDue()).summary.total).toBe(0);
    const resumed = await scheduler.jobs.resume('j');
    expect(resumed).toMatchObject({ enabled: true, pausedNote: null });
    expect(resumed.nextRunAt?.toISOString()).toBe('2026-03-01T04:00:00.000Z');
  });

  it('refuses a pause note no store can hold, naming note, and leaves the job and the audit trail as they were', async () => {
    const { scheduler } = fakeTimeScheduler('2026-03-01T00:00:00Z', { a: noop });
    await scheduler.jobs.create({ name: 'j', schedule: 'hourly', executor: 'a' });
    const before = await scheduler.jobs.get('j');
    const audited = (await scheduler.audit.list({ job: 'j' })).items.length;
    for (const note of ['a\u0000b', 'a\uD800b', 'x'.repeat(2001), 42]) {
      const refused = await scheduler.jobs.pause('j', note as string).then(
        () => null,
        (error: unknown) => error,
      );
      expect(refused, JSON.stringify(note)).toBeInstanceOf(ValidationError);
      expect((refused as ValidationError).path).toBe('note');
    }
    expect(await scheduler.jobs.get('j')).toEqual(before);
    expect((await scheduler.audit.list({ job: 'j' })).items).toHaveLength(audited);
  });

  it('says the same length limit for a description, a paused note and a pause note', async () => {
    const { scheduler } = fakeTimeScheduler('2026-03-01T00:00:00Z', { a: noop });
    const long = 'x'.repeat(2001);
    const base = { name: 'j', schedule: 'hourly', executor: 'a' };
    for (const field of ['description', 'pausedNote'] as const)
      await expect(scheduler.jobs.create({ ...base, [field]: long })).rejects.toMatchObject({
        path: field,
        message: `${field}: must be at most 2000 characters`,
      });
    await scheduler.jobs.create(base);
    await expect(scheduler.jobs.pause('j', long)).rejects.toMatchObject({
      path: 'note',
      message: 'note: must be at most 2000 characters',
    });
  });

  it('refuses C1 controls and bidirectional formatting characters in names and tenant ids, saying which, but not in free text', async () => {
    const { scheduler } = fakeTimeScheduler('2026-03-01T00:00:00Z', { a: noop });
    const base = { name: 'j', schedule: 'hourly', executor: 'a' };
    const cases: Array<[string, RegExp]> = [
      ['\u0085', /control characters .*found U\+0085/],
      ['a\u009bb', /control characters .*found U\+009B/],
      ['invoice\u202egpj.exe', /bidirectional formatting characters .*found U\+202E/],
      ['a\u2066b\u2069', /bidirectional formatting characters .*found U\+2066/],
      ['ab\u200fc', /bidirectional formatting characters .*found U\+200F/],
      ['\u061cx', /bidirectional formatting characters .*found U\+061C/],
    ];
    for (const [bad, message] of cases) {
      const inputs: Array<[JobInput, string]> = [
        [{ ...base, name: bad }, 'name'],
        [{ name: 'j', schedule: 'hourly', tasks: [bad] }, 'tasks.0'],
        [{ ...base, tenantId: bad }, 'tenantId'],
      ];
      for (const [input, path] of inputs) {
        const refused = await scheduler.jobs.create(input).then(
          () => null,
          (error: unknown) => error,
        );
        expect(refused, `${path} ${JSON.stringify(bad)}`).toBeInstanceOf(ValidationError);
        expect((refused as ValidationError).path).toBe(path);
        expect((refused as ValidationError).message).toMatch(message);
      }
      await expect(scheduler.jobs.get(bad)).rejects.toBeInstanceOf(ValidationError);
    }
    expect(await scheduler.jobs.list()).toEqual([]);
    const text = 'a\u0085b \u202e x \u2066y\u2069';
    const job = await scheduler.jobs.create({
      ...base,
      description: text,
      pausedNote: text,
      params: { text },
    });
    expect(job).toMatchObject({ description: text, pausedNote: text, params: { text } });
  });

  it('reads dates given as text only as ISO 8601, refusing other forms and impossible calendar dates, naming the field', async () => {
    const { scheduler } = fakeTimeScheduler('2026-03-01T00:00:00Z', { a: noop });
    const base = { name: 'j', schedule: 'hourly', executor: 'a' };
    const bad = [
      '1',
      '0',
      '2027-02-30',
      '2027-02-29T00:00:00Z',
      '2027-13-01',
      '2027-02-01T24:00:00Z',
      '2027-02-01T09:00:00',
      '03/04/2027',
      'June 5 2027 10:00',
      'Sat, 01 Jan 2100 00:00:00 GMT',
    ];
    for (const value of bad) {
      for (const field of ['activeFrom', 'activeUntil'] as const) {
        const refused = await scheduler.jobs.create({ ...base, [field]: value }).then(
          () => null,
          (error: unknown) => error,
        );
        expect(refused, `${field} ${value}`).toBeInstanceOf(ValidationError);
        expect((refused as ValidationError).path).toBe(field);
        expect((refused as ValidationError).message).toContain(
          'use ISO 8601 with Z or an offset, e.g. 2027-02-01T09:00:00Z',
        );
      }
      await expect(scheduler.runs.list({ since: value }), value).rejects.toThrow(/^since: /);
      await expect(scheduler.stats({ since: value }), value).rejects.toThrow(/^since: .*ISO 8601/);
      await expect(scheduler.preview({ schedule: 'hourly', from: value }), value).rejects.toThrow(/^from: /);
    }
    expect(await scheduler.jobs.list()).toEqual([]);
    const job = await scheduler.jobs.create({
      ...base,
      activeFrom: '2026-03-02',
      activeUntil: '2028-02-29T10:30:00.123456+01:30',
    });
    expect(job.activeFrom?.toISOString()).toBe('2026-03-02T00:00:00.000Z');
    expect(job.activeUntil?.toISOString()).toBe('2028-02-29T09:00:00.123Z');
    const once = await scheduler.schedule({ job: 'j', at: '2026-03-01T10:00:00-02:00' });
    expect(once.runAt.toISOString()).toBe('2026-03-01T12:00:00.000Z');
  });

  it('deletes a job and cancels its pending runs', async () => {
    const { scheduler, clock } = fakeTimeScheduler(undefined, { a: noop });
    await scheduler.jobs.create({ name: 'j', schedule: 'hourly', executor: 'a' });
    const oneOff = await scheduler.schedule({ job: 'j', at: new Date(clock.now().getTime() + 3_600_000) });
    await scheduler.jobs.delete('j');
    await expect(scheduler.jobs.get('j')).rejects.toBeInstanceOf(NotFoundError);
    expect((await scheduler.runs.get(oneOff.id)).status).toBe('cancelled');
    await expect(scheduler.jobs.delete('j')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('seeds default jobs idempotently, overwriting only when asked', async () => {
    const { scheduler } = fakeTimeScheduler(
      undefined,
      { a: noop },
      { jobs: [{ name: 'every-5-minutes', schedule: '*/5 * * * *', executor: 'a' }], maintenanceJobs: true },
    );
    const first = await scheduler.jobs.seed();
    expect(first.created.sort()).toEqual(['daily-cleanup-2am', 'daily-prune-3am', 'every-5-minutes']);
    const again = await scheduler.jobs.seed();
    expect(again.created).toEqual([]);
    expect(again.unchanged).toHaveLength(3);
    await scheduler.jobs.update('every-5-minutes', { schedule: 'hourly' });
    const overwritten = await scheduler.jobs.seed(undefined, { overwrite: true });
    expect(overwritten.updated).toContain('every-5-minutes');
    expect((await scheduler.jobs.get('every-5-minutes')).schedule).toBe('*/5 * * * *');
    expect((await scheduler.jobs.get('daily-cleanup-2am')).nextRunAt?.toISOString().slice(11)).toBe(
      '02:00:00.000Z',
    );
  });

  it('rejects a whole seed when one entry is invalid', async () => {
    const { scheduler } = fakeTimeScheduler(undefined, { a: noop });
    await expect(
      scheduler.jobs.seed([
        { name: 'ok', schedule: 'daily', executor: 'a' },
        { name: 'bad', schedule: '??', executor: 'a' },
      ]),
    ).rejects.toThrow(/jobs\.1\.schedule/);
    expect(await scheduler.jobs.list()).toEqual([]);
  });

  it('rejects a seed that defines one job twice, naming the repeat, and writes nothing', async () => {
    const { scheduler } = fakeTimeScheduler(undefined, { a: noop });
    for (const overwrite of [false, true]) {
      const error = await scheduler.jobs
        .seed(
          [
            { name: 'report', schedule: '0 9 * * *', executor: 'a' },
            { name: 'other', schedule: '0 9 * * *', executor: 'a', tenantId: 'acme' },
            { name: 'report', schedule: '0 18 * * *', executor: 'a' },
          ],
          { overwrite },
        )
        .catch((reason: unknown) => reason);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues.map((issue) => issue.path)).toEqual(['jobs.2.name']);
      expect(await scheduler.jobs.list()).toEqual([]);
    }
    // The same name in two tenants is two jobs.
    const seeded = await scheduler.jobs.seed([
      { name: 'report', schedule: '0 9 * * *', executor: 'a' },
      { name: 'report', schedule: '0 9 * * *', executor: 'a', tenantId: 'acme' },
    ]);
    expect(seeded.created).toEqual(['report', 'report']);
  });
});
