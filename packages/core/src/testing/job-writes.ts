import { describe, expect, it } from 'vitest';
import type { JobInput, JobUpdate, Scheduler } from '../api.js';
import { manualClock } from '../clock.js';
import { defineExecutor } from '../executors.js';
import { createScheduler } from '../scheduler.js';
import type { Store } from '../store.js';
import type { Job } from '../types.js';
import type { ContractFixture } from './harness.js';
import { at, DAY, HOUR, T0 } from './records.js';

function schedulerOn(store: Store, instanceId: string): Scheduler {
  return createScheduler({
    store,
    clock: manualClock(T0),
    instanceId,
    logger: false,
    maintenanceJobs: false,
    executors: {
      'report.build': defineExecutor({ run: () => null }),
      'report.mail': defineExecutor({ run: () => null }),
      'report.archive': defineExecutor({ run: () => null }),
    },
  });
}

/** A job with every definition field set away from its default. */
async function fullJob(scheduler: Scheduler): Promise<Job> {
  return scheduler.jobs.create({
    name: 'round-trip',
    tenantId: 'acme',
    description: 'Builds and mails the report',
    schedule: '30 2 * * *',
    timezone: 'Europe/Paris',
    tasks: [
      { executor: 'report.build', params: { format: 'pdf' } },
      { executor: 'report.mail', enabled: false, params: { to: ['ops@example.com'] } },
    ],
    params: { region: 'eu', limit: 10 },
    enabled: true,
    overlap: 'queue',
    misfire: 'all',
    catchUpLimit: 3,
    misfireGrace: '5m',
    timeout: '90s',
    retry: { limit: 2, backoff: { type: 'exponential', delay: '1s', max: '1m' } },
    jitter: '250ms',
    priority: -3,
    activeFrom: at(-DAY),
    activeUntil: at(365 * DAY),
    metadata: { team: 'data', tags: ['nightly'] },
    createdBy: 'alice',
  });
}

/** The definition of a job: what a write may change. */
function definitionOf(job: Job) {
  const {
    id: _id,
    version: _version,
    nextRunAt: _next,
    updatedAt: _updatedAt,
    updatedBy: _updatedBy,
    ...definition
  } = job;
  return definition;
}

/**
 * What a job read gives, a write takes: `jobs.get` → edit → `jobs.update` works for every field,
 * as objects and as JSON (dates as text), on this store; `version` makes an update
 * compare-and-set, atomic across instances.
 */
export function jobWritesContract(fixture: () => ContractFixture): void {
  describe('job read → write round trip', () => {
    it('a job read writes back unchanged, as it is and through JSON', async () => {
      const scheduler = schedulerOn(fixture().store, 'a');
      const created = await fullJob(scheduler);
      const read = await scheduler.jobs.get('round-trip', { tenantId: 'acme' });
      expect(read).toEqual(created);

      // Written back, it changes nothing, so nothing is written (the version stays), whatever
      // order the store gives nested keys in.
      const same = await scheduler.jobs.update('round-trip', read, { tenantId: 'acme' });
      expect(same).toEqual(created);
      const overJson = JSON.parse(JSON.stringify(same)) as JobInput;
      expect(await scheduler.jobs.update('round-trip', overJson, { tenantId: 'acme' })).toEqual(created);
      expect(await scheduler.jobs.get('round-trip', { tenantId: 'acme' })).toEqual(created);

      // A job exported from one scheduler can be created on another as it was read.
      const copy = await scheduler.jobs.create({ ...overJson, name: 'copy', tenantId: null });
      expect(definitionOf(copy)).toEqual({ ...definitionOf(created), name: 'copy', tenantId: null });
      expect(copy.version).toBe(1);
      expect(copy.runCount).toBe(0);
    });

    it('a write that changes nothing records no audit entry, whatever order the store gives nested keys in', async () => {
      const scheduler = schedulerOn(fixture().store, 'a');
      await fullJob(scheduler);
      const read = await scheduler.jobs.get('round-trip', { tenantId: 'acme' });
      await scheduler.jobs.update('round-trip', read, { tenantId: 'acme' });
      // The same params with their keys in the other order.
      await scheduler.jobs.update(
        'round-trip',
        { params: { limit: 10, region: 'eu' } },
        { tenantId: 'acme' },
      );
      const { id: _id, version: _version, ...asRead } = read;
      await scheduler.jobs.seed([asRead], { overwrite: true });
      const trail = await scheduler.audit.list({ tenantId: 'acme', job: 'round-trip' });
      expect(trail.items.map((entry) => entry.action)).toEqual(['created']);
    });

    it('a job whose next slot would fall after 9999-12-31 has no next run, on every store', async () => {
      const scheduler = schedulerOn(fixture().store, 'a');
      const job = await scheduler.jobs.create({
        name: 'last-day',
        schedule: 'daily',
        executor: 'report.build',
        activeFrom: '9999-12-31T23:59:59Z',
      });
      expect(job.nextRunAt).toBeNull();
      expect((await scheduler.jobs.get('last-day')).nextRunAt).toBeNull();
      const preview = await scheduler.preview({ schedule: 'hourly', from: '9999-12-31T21:30:00Z', count: 5 });
      expect(preview.next.map((instant) => instant.toISOString())).toEqual([
        '9999-12-31T22:00:00.000Z',
        '9999-12-31T23:00:00.000Z',
      ]);
    });

    it('every field edited on a job read is written, under the name it is read with', async () => {
      const scheduler = schedulerOn(fixture().store, 'a');
      const read = await fullJob(scheduler);
      const edited: Job = {
        ...read,
        name: 'renamed',
        description: 'Mails the report only',
        schedule: '0 6 * * 1-5',
        timezone: 'America/New_York',
        tasks: [
          { executor: 'report.archive', enabled: true, params: { keep: 7 } },
          { executor: 'report.build', enabled: false, params: {} },
        ],
        params: { region: 'us' },
        enabled: false,
        pausedNote: 'until the audit ends',
        overlap: 'allow',
        misfire: 'skip',
        catchUpLimit: 9,
        misfireGraceMs: 60_000,
        timeoutMs: 30_000,
        retry: { limit: 5, backoff: { type: 'fixed', delay: 2_000, max: null } },
        jitterMs: 0,
        priority: 7,
        activeFrom: at(HOUR),
        activeUntil: null,
        metadata: { team: 'finance' },
        updatedBy: 'bob',
        // Bookkeeping moves on by itself: what a stale read says of it is ignored.
        runCount: 99,
        errorCount: 98,
        lastError: 'not from this job',
      };
      const written = await scheduler.jobs.update('round-trip', JSON.parse(JSON.stringify(edited)), {
        tenantId: 'acme',
      });
      expect(written).toEqual({
        ...edited,
        version: read.version + 1,
        nextRunAt: null,
        updatedAt: written.updatedAt,
        runCount: read.runCount,
        errorCount: read.errorCount,
        lastError: read.lastError,
      });
      expect(await scheduler.jobs.get('renamed', { tenantId: 'acme' })).toEqual(written);
      const resumed = await scheduler.jobs.update(
        'renamed',
        { ...written, enabled: true, pausedNote: null },
        { tenantId: 'acme' },
      );
      expect(resumed.nextRunAt).toEqual(new Date('2026-01-01T11:00:00.000Z'));
    });

    it('refuses a body that would move the job to another tenant, or that contradicts itself', async () => {
      const scheduler = schedulerOn(fixture().store, 'a');
      const read = await fullJob(scheduler);
      const refused = async (patch: JobUpdate) =>
        scheduler.jobs.update('round-trip', patch, { tenantId: 'acme' }).then(
          () => null,
          (error: { code?: string; issues?: { path: string }[] }) => error,
        );
      const moved = await refused({ ...read, tenantId: 'other' });
      expect(moved?.code).toBe('VALIDATION');
      expect(moved?.issues?.map((issue) => issue.path)).toEqual(['tenantId']);
      const both = await refused({ timeout: '1m', timeoutMs: 30_000 });
      expect(both?.code).toBe('VALIDATION');
      expect(both?.issues?.map((issue) => issue.path)).toEqual(['timeoutMs']);
      expect(await refused({ timeout: '1m', timeoutMs: 60_000 })).toBeNull();
      const junk = await refused({ ...read, runCount: -1, createdAt: 'yesterday' });
      expect(junk?.issues?.map((issue) => issue.path).sort()).toEqual(['createdAt', 'runCount']);
    });
  });

  describe('job updates with version', () => {
    it('an update naming a stale version is a ConflictError and changes nothing', async () => {
      const scheduler = schedulerOn(fixture().store, 'a');
      const read = await fullJob(scheduler);
      const first = await scheduler.jobs.update(
        'round-trip',
        { ...read, description: 'first admin' },
        { tenantId: 'acme' },
      );
      expect(first.version).toBe(read.version + 1);
      const second = scheduler.jobs.update(
        'round-trip',
        { ...read, description: 'second admin' },
        { tenantId: 'acme' },
      );
      await expect(second).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(await scheduler.jobs.get('round-trip', { tenantId: 'acme' })).toEqual(first);
      // Without a version, the last write wins as before.
      const { version: _version, ...unguarded } = read;
      const last = await scheduler.jobs.update(
        'round-trip',
        { ...unguarded, description: 'third admin' },
        { tenantId: 'acme' },
      );
      expect(last.description).toBe('third admin');
    });

    it('an update naming the version of a job deleted and created again is a ConflictError', async () => {
      const scheduler = schedulerOn(fixture().store, 'a');
      const read = await fullJob(scheduler);
      await scheduler.jobs.delete('round-trip', { tenantId: 'acme' });
      const recreated = await fullJob(scheduler);
      expect(recreated.version).toBe(read.version);
      await expect(
        scheduler.jobs.update('round-trip', { ...read, description: 'old edit' }, { tenantId: 'acme' }),
      ).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(await scheduler.jobs.get('round-trip', { tenantId: 'acme' })).toEqual(recreated);
    });

    it('of concurrent updates of one version from two instances, exactly one is applied', async () => {
      const stores = await fixture().instances(2);
      const schedulers = stores.map((store, index) => schedulerOn(store, `instance-${index}`));
      const [first] = schedulers as [Scheduler, Scheduler];
      const read = await fullJob(first);
      const outcomes = await Promise.all(
        Array.from({ length: 8 }, (_, index) =>
          (schedulers[index % 2] as Scheduler).jobs
            .update('round-trip', { ...read, description: `admin ${index}` }, { tenantId: 'acme' })
            .then(
              (job) => ({ job, code: null as string | null }),
              (error: { code?: string }) => ({ job: null, code: error.code ?? String(error) }),
            ),
        ),
      );
      const applied = outcomes.filter((outcome) => outcome.job !== null);
      expect(applied).toHaveLength(1);
      expect(outcomes.filter((outcome) => outcome.code === 'CONFLICT')).toHaveLength(7);
      const stored = await first.jobs.get('round-trip', { tenantId: 'acme' });
      expect(stored).toEqual(applied[0]?.job);
      expect(stored.version).toBe(read.version + 1);
    });
  });
}
