import { expect } from 'vitest';
import { syncJob } from '../support/harness.js';
import type { Suite } from './table.js';

export const jobSuite: Suite = {
  name: 'job CRUD',
  cases: [
    {
      name: 'creates a job (201) and records the actor as createdBy',
      async run(h) {
        const created = await h.call('POST', '/jobs', { body: syncJob('morning-sync-3am'), user: 'bob' });
        expect(created.status).toBe(201);
        expect(created.json.data).toMatchObject({
          name: 'morning-sync-3am',
          schedule: '0 3 * * *',
          createdBy: 'bob',
          nextRunAt: '2026-03-30T03:00:00.000Z',
        });
      },
    },
    {
      name: 'lists jobs with the enabled and tenantId filters',
      async run(h) {
        await h.call('POST', '/jobs', { body: syncJob('a') });
        await h.call('POST', '/jobs', { body: syncJob('b', { enabled: false }) });
        await h.call('POST', '/jobs', { body: syncJob('c', { tenantId: 'acme' }) });
        const names = (answer: { json: { data: Array<{ name: string }> } }) =>
          answer.json.data.map((job) => job.name).sort();
        expect(names(await h.call('GET', '/jobs'))).toEqual(['a', 'b', 'c']);
        expect(names(await h.call('GET', '/jobs?enabled=true'))).toEqual(['a', 'c']);
        expect(names(await h.call('GET', '/jobs?tenantId=acme'))).toEqual(['c']);
        expect(names(await h.call('GET', '/jobs?tenantId='))).toEqual(['a', 'b']);
      },
    },
    {
      name: 'gets one job, 404 for an unknown one',
      async run(h) {
        await h.call('POST', '/jobs', { body: syncJob('a') });
        expect((await h.call('GET', '/jobs/a')).json.data.name).toBe('a');
        const missing = await h.call('GET', '/jobs/nope');
        expect(missing.status).toBe(404);
        expect(missing.json.error.code).toBe('NOT_FOUND');
      },
    },
    {
      name: 'PATCH recomputes nextRunAt and records updatedBy; a taken name is a 409',
      async run(h) {
        await h.call('POST', '/jobs', { body: syncJob('a') });
        await h.call('POST', '/jobs', { body: syncJob('b') });
        const patched = await h.call('PATCH', '/jobs/a', { body: { schedule: '0 4 * * *' }, user: 'carol' });
        expect(patched.status).toBe(200);
        expect(patched.json.data).toMatchObject({
          nextRunAt: '2026-03-30T04:00:00.000Z',
          updatedBy: 'carol',
        });
        expect((await h.call('PATCH', '/jobs/a', { body: { name: 'b' } })).status).toBe(409);
      },
    },
    {
      name: 'PUT creates a missing job (201) and updates an existing one (200)',
      async run(h) {
        const created = await h.call('PUT', '/jobs/morning-sync-3am', {
          body: { schedule: '0 3 * * *', executor: 'sync' },
        });
        expect(created.status).toBe(201);
        const updated = await h.call('PUT', '/jobs/morning-sync-3am', {
          body: { schedule: '0 4 * * *', enabled: true, description: 'Updated to 4 AM' },
        });
        expect(updated.status).toBe(200);
        expect(updated.json.data).toMatchObject({ schedule: '0 4 * * *', description: 'Updated to 4 AM' });
      },
    },
    {
      name: 'DELETE removes the job',
      async run(h) {
        await h.call('POST', '/jobs', { body: syncJob('a') });
        const deleted = await h.call('DELETE', '/jobs/a');
        expect(deleted.json.data).toEqual({ deleted: true, name: 'a', tenantId: null });
        expect((await h.call('GET', '/jobs/a')).status).toBe(404);
      },
    },
    {
      name: 'pause keeps the note and stops the schedule; resume restores it',
      async run(h) {
        await h.call('POST', '/jobs', { body: syncJob('a') });
        const paused = await h.call('POST', '/jobs/a/pause', { body: { note: 'supplier outage' } });
        expect(paused.json.data).toMatchObject({
          enabled: false,
          pausedNote: 'supplier outage',
          nextRunAt: null,
        });
        const resumed = await h.call('POST', '/jobs/a/resume');
        expect(resumed.json.data).toMatchObject({ enabled: true, pausedNote: null });
        expect(resumed.json.data.nextRunAt).not.toBeNull();
      },
    },
    {
      name: 'rejects an unregistered executor and an invalid schedule with the field named',
      async run(h) {
        const unknown = await h.call('POST', '/jobs', {
          body: { name: 'x', schedule: 'daily', executor: 'rm -rf' },
        });
        expect(unknown.status).toBe(400);
        expect(unknown.json.error.details.issues[0].path).toBe('executor');
        const badCron = await h.call('POST', '/jobs', { body: syncJob('x', { schedule: '61 * * * *' }) });
        expect(badCron.status).toBe(400);
        expect(badCron.json.error.message).toMatch(/schedule/);
        const badZone = await h.call('POST', '/jobs', { body: syncJob('x', { timezone: 'Mars/Olympus' }) });
        expect(badZone.status).toBe(400);
        expect(badZone.json.error.details.issues[0].path).toBe('timezone');
      },
    },
    {
      name: 'seeds the default jobs once (idempotent) and reloads',
      async run(h) {
        const first = await h.call('POST', '/jobs/seed');
        expect(first.status).toBe(200);
        expect(first.json.data.created).toContain('daily-cleanup-2am');
        const second = await h.call('POST', '/jobs/seed');
        expect(second.json.data.created).toEqual([]);
        expect(second.json.data.unchanged).toContain('daily-cleanup-2am');
        expect((await h.call('POST', '/reload')).json.data).toEqual({ reloaded: true });
      },
    },
    {
      name: 'seeds the jobs given, overwriting only when asked',
      async run(h) {
        const body = { jobs: [syncJob('weekly-sunday', { schedule: '0 0 * * 0' })] };
        expect((await h.call('POST', '/jobs/seed', { body })).json.data.created).toEqual(['weekly-sunday']);
        const again = await h.call('POST', '/jobs/seed', {
          body: { jobs: [syncJob('weekly-sunday', { schedule: '0 1 * * 0' })], overwrite: true },
        });
        expect(again.json.data.updated).toEqual(['weekly-sunday']);
        expect((await h.call('GET', '/jobs/weekly-sunday')).json.data.schedule).toBe('0 1 * * 0');
      },
    },
  ],
};
