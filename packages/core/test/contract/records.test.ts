import { at, MINUTE, newJob, newRun, newRunOf, T0 } from '@cronkeeper/core/testing';
import { describe, expect, it } from 'vitest';

// The contract suite and adapter authors mutate the records these builders return (to prove stores
// copy them): a builder that shared a Date with T0 or with another record would corrupt every test.

describe('contract record builders', () => {
  it('return records with their own dates, never T0 itself', () => {
    const job = newJob();
    const run = newRun();
    job.createdAt.setTime(0);
    job.updatedAt.setTime(0);
    job.nextRunAt?.setTime(0);
    run.runAt.setTime(0);
    run.createdAt.setTime(0);
    expect(T0.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(newRun().runAt).toEqual(T0);
    expect(newJob().nextRunAt).toEqual(at(MINUTE));
  });

  it('give each job a unique name and each run its own concurrency key unless told otherwise', () => {
    expect(newJob().name).not.toBe(newJob().name);
    expect(newRun().concurrencyKey).not.toBe(newRun().concurrencyKey);
    expect(newRun({ concurrencyKey: 'job:x' }).concurrencyKey).toBe('job:x');
  });

  it('build a run of a stored job the way core does', () => {
    const job = { ...newJob({ tenantId: 'acme', priority: 3, overlap: 'queue' }), id: 'job-1', version: 1 };
    expect(newRunOf(job)).toMatchObject({
      jobId: 'job-1',
      jobName: job.name,
      tenantId: 'acme',
      priority: 3,
      overlap: 'queue',
      concurrencyKey: 'job:job-1',
      executor: 'test.echo',
      trigger: 'schedule',
      status: 'pending',
    });
  });
});
