import { describe, expect, it } from 'vitest';
import { convertCronConfig, convertCronConfigs } from '../src/convert.js';

const executors = ['synchroRapelles', 'synchroFacture', 'zendeskTicket'];

// A typical document of a CronConfig collection, as Mongoose stores it.
const morningSync = {
  _id: { toString: () => '65f0c0ffee0000000000abcd' },
  name: 'morning-sync-3am',
  schedule: '0 3 * * *',
  description: 'Morning synchronization tasks at 3 AM',
  enabled: true,
  scripts: [
    { name: 'synchroRapelles', enabled: true },
    { name: 'synchroFacture', enabled: false },
    { name: 'zendeskTicket', enabled: true },
  ],
  __v: 0,
};

describe('convertCronConfig', () => {
  it('maps a config to a job: each script a task, enabled flags kept, overlap allowed as before', () => {
    expect(convertCronConfig(morningSync, { executors })).toEqual({
      ok: true,
      name: 'morning-sync-3am',
      job: {
        name: 'morning-sync-3am',
        description: 'Morning synchronization tasks at 3 AM',
        schedule: '0 3 * * *',
        timezone: 'UTC',
        tasks: [
          { executor: 'synchroRapelles', enabled: true },
          { executor: 'synchroFacture', enabled: false },
          { executor: 'zendeskTicket', enabled: true },
        ],
        enabled: true,
        overlap: 'allow',
        metadata: { importedFrom: 'CronConfig', cronConfigId: '65f0c0ffee0000000000abcd' },
        createdBy: 'mongo-import',
      },
    });
  });

  it('keeps a disabled config disabled and applies the zone and overlap asked for', () => {
    const result = convertCronConfig(
      { name: 'weekly-sunday', schedule: '0 0 * * 0', enabled: false, scripts: [{ name: 'zendeskTicket' }] },
      { executors, timezone: 'Europe/Paris', overlap: 'skip' },
    );
    expect(result.ok && result.job).toMatchObject({
      enabled: false,
      timezone: 'Europe/Paris',
      overlap: 'skip',
      description: null,
      tasks: [{ executor: 'zendeskTicket', enabled: true }],
      metadata: { importedFrom: 'CronConfig' },
    });
  });

  it('skips the configs Cronkeeper replaces: the 5-minute manual-trigger poll and the stale cleanup', () => {
    const poll = convertCronConfig(
      { name: 'every-5-minutes', schedule: '*/5 * * * *', scripts: [] },
      { executors },
    );
    expect(poll).toMatchObject({
      ok: false,
      name: 'every-5-minutes',
      reason: expect.stringMatching(/trigger/),
    });
    const cleanup = convertCronConfig(
      { name: 'daily-cleanup-2am', schedule: '0 2 * * *', enabled: true },
      { executors },
    );
    expect(cleanup).toMatchObject({ ok: false, reason: expect.stringMatching(/built in/) });
  });

  it('skips a config naming a script with no registered executor, and says which', () => {
    const result = convertCronConfig(
      {
        name: 'nightly',
        schedule: '0 1 * * *',
        scripts: [{ name: 'synchroFacture' }, { name: 'legacyExport' }],
      },
      { executors },
    );
    expect(result).toMatchObject({ ok: false, reason: expect.stringMatching(/legacyExport/) });
  });

  it('skips documents that are not CronConfig documents, naming the bad field', () => {
    expect(convertCronConfig({ name: 'broken', scripts: [] }, { executors })).toMatchObject({
      ok: false,
      name: 'broken',
      reason: expect.stringMatching(/schedule/),
    });
    expect(convertCronConfig(null, { executors })).toMatchObject({ ok: false, name: '(unnamed)' });
  });
});

describe('convertCronConfigs', () => {
  it('returns the jobs to seed and every skipped config with its reason, a repeated name included', () => {
    const { jobs, skipped } = convertCronConfigs(
      [morningSync, { ...morningSync, _id: 'copy' }, { name: 'every-5-minutes', schedule: '*/5 * * * *' }],
      { executors },
    );
    expect(jobs.map((job) => job.name)).toEqual(['morning-sync-3am']);
    expect(skipped.map((entry) => entry.name)).toEqual(['morning-sync-3am', 'every-5-minutes']);
    expect(skipped[0]?.reason).toMatch(/same name/);
  });
});
