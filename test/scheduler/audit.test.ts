import { type AuditEntry, ConflictError, NotFoundError, ValidationError } from '@cronkeeper/core';
import { describe, expect, it } from 'vitest';
import { fakeTimeScheduler } from './helpers.js';

const executors = { 'report.build': { run: async () => 'ok' } };

const shape = ({ id: _id, at: _at, ...entry }: AuditEntry) => entry;

describe('audit trail through the scheduler', () => {
  it('records create, update (changed fields only), pause, resume and delete with actor, time and tenant', async () => {
    const { scheduler, clock } = fakeTimeScheduler('2026-03-01T00:00:00Z', executors);
    await scheduler.jobs.create({
      name: 'nightly',
      tenantId: 'acme',
      schedule: '0 2 * * *',
      executor: 'report.build',
      createdBy: 'alice',
    });
    clock.advance('1m');
    await scheduler.jobs.update(
      'nightly',
      { schedule: '0 3 * * *', description: 'Builds the report', updatedBy: 'bob' },
      { tenantId: 'acme' },
    );
    clock.advance('1m');
    await scheduler.jobs.pause('nightly', 'holidays', { tenantId: 'acme', by: 'carol' });
    clock.advance('1m');
    await scheduler.jobs.resume('nightly', { tenantId: 'acme', by: 'dave', note: 'back at work' });
    clock.advance('1m');
    await scheduler.jobs.delete('nightly', { tenantId: 'acme', by: 'erin' });

    const { items, nextCursor } = await scheduler.audit.list({ tenantId: 'acme' });
    expect(nextCursor).toBeNull();
    expect(items.map((entry) => [entry.action, entry.actor, entry.at.toISOString()])).toEqual([
      ['deleted', 'erin', '2026-03-01T00:04:00.000Z'],
      ['resumed', 'dave', '2026-03-01T00:03:00.000Z'],
      ['paused', 'carol', '2026-03-01T00:02:00.000Z'],
      ['updated', 'bob', '2026-03-01T00:01:00.000Z'],
      ['created', 'alice', '2026-03-01T00:00:00.000Z'],
    ]);
    const [deleted, resumed, paused, updated, created] = items as AuditEntry[];
    expect(shape(updated as AuditEntry)).toEqual({
      actor: 'bob',
      action: 'updated',
      job: 'nightly',
      tenantId: 'acme',
      before: { description: null, schedule: '0 2 * * *' },
      after: { description: 'Builds the report', schedule: '0 3 * * *' },
      note: null,
    });
    expect(shape(paused as AuditEntry)).toMatchObject({
      before: { enabled: true, pausedNote: null },
      after: { enabled: false, pausedNote: 'holidays' },
      note: 'holidays',
    });
    expect(shape(resumed as AuditEntry)).toMatchObject({
      before: { enabled: false, pausedNote: 'holidays' },
      after: { enabled: true, pausedNote: null },
      note: 'back at work',
    });
    expect(created?.before).toBeNull();
    expect(created?.after).toMatchObject({ name: 'nightly', schedule: '0 2 * * *', enabled: true });
    expect(deleted?.after).toBeNull();
    expect(deleted?.before).toMatchObject({ name: 'nightly', schedule: '0 3 * * *' });
    expect((await scheduler.audit.list({ tenantId: null })).items).toEqual([]);
  });

  it('records seeding once, and a re-seed that changes nothing records nothing', async () => {
    const { scheduler } = fakeTimeScheduler('2026-03-01T00:00:00Z', executors);
    const jobs = [{ name: 'seeded', schedule: 'daily', executor: 'report.build', createdBy: 'deploy' }];
    await scheduler.jobs.seed(jobs);
    await scheduler.jobs.seed(jobs);
    await scheduler.jobs.seed(jobs, { overwrite: true });
    await scheduler.jobs.seed([{ ...jobs[0], schedule: 'hourly' }] as typeof jobs, { overwrite: true });
    const { items } = await scheduler.audit.list({ job: 'seeded' });
    expect(items.map((entry) => [entry.action, entry.actor, entry.before, entry.after?.schedule])).toEqual([
      ['seeded', 'deploy', { schedule: 'daily' }, 'hourly'],
      ['seeded', 'deploy', null, 'daily'],
    ]);
  });

  it('records a manual trigger with the run it created, and nothing for a refused one', async () => {
    const { scheduler } = fakeTimeScheduler('2026-03-01T00:00:00Z', executors);
    await scheduler.jobs.create({ name: 'sync', schedule: 'hourly', executor: 'report.build' });
    const run = await scheduler.trigger({ job: 'sync', triggeredBy: 'ops', params: { full: true } });
    await expect(scheduler.trigger({ job: 'sync', triggeredBy: 'again' })).rejects.toThrow(
      /already has a run due/,
    );
    await scheduler.trigger({ executor: 'report.build', triggeredBy: 'ops' });
    const { items } = await scheduler.audit.list({});
    const triggers = items.filter((entry) => entry.action === 'triggered');
    expect(triggers.map(shape)).toEqual([
      {
        actor: 'ops',
        action: 'triggered',
        job: null,
        tenantId: null,
        before: null,
        after: { executor: 'report.build', params: {}, runId: expect.any(String) },
        note: null,
      },
      {
        actor: 'ops',
        action: 'triggered',
        job: 'sync',
        tenantId: null,
        before: null,
        after: { params: { full: true }, runId: run.id },
        note: null,
      },
    ]);
  });

  it('a dry run writes nothing and records nothing', async () => {
    const { scheduler } = fakeTimeScheduler('2026-03-01T00:00:00Z', executors);
    const job = await scheduler.jobs.create({
      name: 'tuned',
      schedule: '0 2 * * *',
      executor: 'report.build',
    });
    const preview = await scheduler.jobs.update('tuned', { schedule: '*/30 * * * *' }, { dryRun: true });
    expect(preview).toMatchObject({ schedule: '*/30 * * * *', version: 2 });
    expect(preview.nextRunAt?.toISOString()).toBe('2026-03-01T00:30:00.000Z');
    expect(preview.next.map((date) => date.toISOString())).toEqual([
      '2026-03-01T00:30:00.000Z',
      '2026-03-01T01:00:00.000Z',
      '2026-03-01T01:30:00.000Z',
      '2026-03-01T02:00:00.000Z',
      '2026-03-01T02:30:00.000Z',
    ]);
    expect(await scheduler.jobs.get('tuned')).toEqual(job);
    expect((await scheduler.audit.list({ job: 'tuned' })).items.map((entry) => entry.action)).toEqual([
      'created',
    ]);
    await expect(
      scheduler.jobs.update('tuned', { schedule: 'nope' }, { dryRun: true }),
    ).rejects.toMatchObject({
      issues: [{ path: 'schedule' }],
    });
    const paused = await scheduler.jobs.update('tuned', { enabled: false }, { dryRun: true });
    expect(paused.next).toEqual([]);
    await expect(scheduler.jobs.update('missing', {}, { dryRun: true })).rejects.toThrow(NotFoundError);
  });

  it('a dry run checks the version it was read at, as the update would, and a tenant executor rule', async () => {
    const { scheduler } = fakeTimeScheduler('2026-03-01T00:00:00Z', executors);
    const read = await scheduler.jobs.create({
      name: 'tuned',
      schedule: '0 2 * * *',
      executor: 'report.build',
    });
    await scheduler.jobs.update('tuned', { description: 'changed elsewhere' });
    // The job moved on since `read`: the real update would be a ConflictError, so is its dry run.
    await expect(
      scheduler.jobs.update('tuned', { ...read, schedule: 'hourly' }, { dryRun: true }),
    ).rejects.toThrow(ConflictError);
    const current = await scheduler.jobs.get('tuned');
    const dry = await scheduler.jobs.update('tuned', { ...current, schedule: 'hourly' }, { dryRun: true });
    expect(dry).toMatchObject({ schedule: 'hourly', version: current.version + 1 });
    expect(await scheduler.jobs.get('tuned')).toEqual(current);
    await scheduler.jobs.create({
      name: 'mine',
      tenantId: 'acme',
      schedule: 'daily',
      executor: 'report.build',
    });
    await expect(
      scheduler.jobs.update('mine', { executor: 'cronkeeper.prune' }, { tenantId: 'acme', dryRun: true }),
    ).rejects.toMatchObject({ issues: [{ path: 'executor' }] });
  });

  it('pages newest first with a cursor, filters by since, and rejects bad filters naming the field', async () => {
    const { scheduler, clock } = fakeTimeScheduler('2026-03-01T00:00:00Z', executors);
    for (let index = 0; index < 5; index++) {
      await scheduler.jobs.create({ name: `job-${index}`, schedule: 'daily', executor: 'report.build' });
      clock.advance('1m');
    }
    const first = await scheduler.audit.list({ limit: 2 });
    const second = await scheduler.audit.list({ limit: 2, cursor: first.nextCursor });
    const third = await scheduler.audit.list({ limit: 2, cursor: second.nextCursor });
    expect([...first.items, ...second.items, ...third.items].map((entry) => entry.job)).toEqual([
      'job-4',
      'job-3',
      'job-2',
      'job-1',
      'job-0',
    ]);
    expect(third.nextCursor).toBeNull();
    const since = await scheduler.audit.list({ since: '2026-03-01T00:03:00Z' });
    expect(since.items.map((entry) => entry.job)).toEqual(['job-4', 'job-3']);
    await expect(scheduler.audit.list({ limit: 0 })).rejects.toMatchObject({ issues: [{ path: 'limit' }] });
    await expect(scheduler.audit.list({ since: 'yesterday' })).rejects.toThrow(ValidationError);
    await expect(scheduler.audit.list({ cursor: 'forged' })).rejects.toMatchObject({
      issues: [{ path: 'cursor' }],
    });
  });

  it('stops a page at about 1 MB of entries and goes on from there with the cursor', async () => {
    const { scheduler, clock } = fakeTimeScheduler('2026-03-01T00:00:00Z', executors);
    const blob = 'x'.repeat(60_000);
    for (let index = 0; index < 40; index++) {
      await scheduler.jobs.create({
        name: `big-${index}`,
        schedule: 'daily',
        executor: 'report.build',
        params: { blob },
      });
      clock.advance('1m');
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const page = await scheduler.audit.list({ limit: 500, ...(cursor ? { cursor } : {}) });
      expect(JSON.stringify(page.items).length).toBeLessThan(1_100_000);
      seen.push(...page.items.map((entry) => entry.job ?? ''));
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    expect(seen).toEqual(Array.from({ length: 40 }, (_, index) => `big-${39 - index}`));
  });

  it('prune removes audit entries older than the retention, only in the tenant asked', async () => {
    const { scheduler, clock } = fakeTimeScheduler('2026-03-01T00:00:00Z', executors);
    await scheduler.jobs.create({ name: 'a', tenantId: 'acme', schedule: 'daily', executor: 'report.build' });
    await scheduler.jobs.create({
      name: 'b',
      tenantId: 'other',
      schedule: 'daily',
      executor: 'report.build',
    });
    clock.advance('40d');
    await scheduler.jobs.create({ name: 'c', tenantId: 'acme', schedule: 'daily', executor: 'report.build' });
    const scoped = await scheduler.prune({ olderThan: '30d', tenantId: 'acme' });
    expect(scoped.auditDeleted).toBe(1);
    expect((await scheduler.audit.list({})).items.map((entry) => entry.job)).toEqual(['c', 'b']);
    expect((await scheduler.prune({ olderThan: '30d' })).auditDeleted).toBe(1);
    expect((await scheduler.audit.list({})).items.map((entry) => entry.job)).toEqual(['c']);
  });
});
