import { expect } from 'vitest';
import { type Harness, syncJob } from '../support/harness.js';
import type { Suite } from './table.js';

/** A job with every definition field away from its default, as `POST /jobs` takes it. */
const FULL_JOB = {
  name: 'nightly',
  description: 'Synchronises, then checks',
  schedule: '30 2 * * *',
  timezone: 'Europe/Paris',
  tasks: [
    { executor: 'sync', params: { batchSize: 20 } },
    { executor: 'broken', enabled: false },
  ],
  params: { region: 'eu' },
  overlap: 'queue',
  misfire: 'all',
  catchUpLimit: 3,
  misfireGrace: '5m',
  timeout: '90s',
  retry: { limit: 2, backoff: { type: 'exponential', delay: '1s', max: '1m' } },
  jitter: '250ms',
  priority: -3,
  activeFrom: '2026-01-01T00:00:00.000Z',
  activeUntil: '2027-01-01T00:00:00.000Z',
  metadata: { team: 'data', tags: ['nightly'] },
};

// biome-ignore lint/suspicious/noExplicitAny: jobs are read as plain JSON
type JobJson = Record<string, any>;

async function read(
  h: Harness,
  path = '/jobs/nightly',
  tenant?: string,
): Promise<{ job: JobJson; etag: string }> {
  const answer = await h.call('GET', path, tenant === undefined ? {} : { tenant });
  expect(answer.status).toBe(200);
  return { job: answer.json.data, etag: answer.headers.get('etag') ?? '' };
}

/** The definition of a job as answered: what a write may change. */
function definitionOf(job: JobJson): JobJson {
  const { id, version, nextRunAt, updatedAt, updatedBy, ...definition } = job;
  return definition;
}

export const jobWriteSuite: Suite = {
  name: 'job read → write round trip',
  setup: async (h) => {
    expect((await h.call('POST', '/jobs', { body: FULL_JOB, user: 'alice' })).status).toBe(201);
  },
  cases: [
    {
      name: 'PUT takes back what GET answered, unchanged, and PATCH and POST take it too',
      async run(h) {
        const { job, etag } = await read(h);
        expect(etag).toBe(`"${job.version}"`);
        const put = await h.call('PUT', '/jobs/nightly', { body: job, user: 'bob' });
        expect(put.status, JSON.stringify(put.json)).toBe(200);
        expect(definitionOf(put.json.data)).toEqual(definitionOf(job));
        // Nothing changed, so nothing was written: the version an editor read still holds.
        expect(put.json.data).toEqual(job);
        expect(put.headers.get('etag')).toBe(`"${job.version}"`);

        const patch = await h.call('PATCH', '/jobs/nightly', { body: put.json.data });
        expect(patch.status, JSON.stringify(patch.json)).toBe(200);
        expect(definitionOf(patch.json.data)).toEqual(definitionOf(job));

        // An export applied elsewhere: the same body creates the job under another name.
        const copy = await h.call('POST', '/jobs', { body: { ...patch.json.data, name: 'copy' } });
        expect(copy.status, JSON.stringify(copy.json)).toBe(201);
        expect(definitionOf(copy.json.data)).toEqual({
          ...definitionOf(job),
          name: 'copy',
          createdBy: 'alice',
          createdAt: copy.json.data.createdAt,
        });
        expect(copy.json.data.version).toBe(1);
        const created = await h.call('PUT', '/jobs/copy-2', { body: { ...job, name: undefined } });
        expect(created.status, JSON.stringify(created.json)).toBe(201);
        expect(definitionOf(created.json.data)).toMatchObject({ ...definitionOf(job), name: 'copy-2' });
      },
    },
    {
      name: 'every field edited in a GET body is written by PUT; bookkeeping in it is ignored',
      async run(h) {
        const { job } = await read(h);
        const edited = {
          ...job,
          description: 'Checks only',
          schedule: '0 6 * * 1-5',
          timezone: 'America/New_York',
          tasks: [
            { executor: 'slow', enabled: true, params: { wait: 1 } },
            { executor: 'sync', enabled: false, params: {} },
          ],
          params: { region: 'us' },
          enabled: false,
          pausedNote: 'audit',
          overlap: 'allow',
          misfire: 'skip',
          catchUpLimit: 9,
          misfireGraceMs: 60_000,
          timeoutMs: 30_000,
          retry: { limit: 5, backoff: { type: 'fixed', delay: 2000, max: null } },
          jitterMs: 0,
          priority: 7,
          activeFrom: '2026-02-01T00:00:00.000Z',
          activeUntil: null,
          metadata: { team: 'finance' },
          runCount: 99,
          lastError: 'not this job',
          nextRunAt: '2030-01-01T00:00:00.000Z',
        };
        const put = await h.call('PUT', '/jobs/nightly', { body: edited, user: 'carol' });
        expect(put.status, JSON.stringify(put.json)).toBe(200);
        expect(put.json.data).toEqual({
          ...edited,
          version: job.version + 1,
          nextRunAt: null,
          updatedAt: put.json.data.updatedAt,
          updatedBy: 'carol',
          runCount: job.runCount,
          lastError: job.lastError,
        });
        expect((await read(h)).job).toEqual(put.json.data);
      },
    },
    {
      name: 'a stale If-Match or version is a 409 that changes nothing; a current one applies',
      async run(h) {
        const { job, etag } = await read(h);
        const first = await h.call('PUT', '/jobs/nightly', {
          body: { ...job, description: 'first admin' },
          headers: { 'if-match': etag },
        });
        expect(first.status, JSON.stringify(first.json)).toBe(200);
        const byHeader = await h.call('PUT', '/jobs/nightly', {
          body: { description: 'second admin' },
          headers: { 'if-match': etag },
        });
        expect(byHeader.status).toBe(409);
        expect(byHeader.json.error.code).toBe('CONFLICT');
        const byBody = await h.call('PUT', '/jobs/nightly', { body: { ...job, description: 'third admin' } });
        expect(byBody.status).toBe(409);
        const byPatch = await h.call('PATCH', '/jobs/nightly', {
          body: { description: 'fourth admin' },
          headers: { 'if-match': `W/${etag}` },
        });
        expect(byPatch.status).toBe(409);
        expect((await read(h)).job.description).toBe('first admin');

        const current = await h.call('PATCH', '/jobs/nightly', {
          body: { description: 'fifth admin' },
          headers: { 'if-match': first.headers.get('etag') ?? '' },
        });
        expect(current.status).toBe(200);
        expect(current.json.data.description).toBe('fifth admin');
      },
    },
    {
      name: 'of concurrent PUTs of one version exactly one applies, the others get 409',
      async run(h) {
        const { job } = await read(h);
        const answers = await Promise.all(
          Array.from({ length: 6 }, (_, index) =>
            h.call('PUT', '/jobs/nightly', { body: { ...job, description: `admin ${index}` } }),
          ),
        );
        expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409, 409, 409, 409, 409]);
        const winner = answers.find((answer) => answer.status === 200);
        expect((await read(h)).job).toEqual(winner?.json.data);
      },
    },
    {
      name: 'refuses a body naming another job or tenant, or a malformed If-Match, with the field named',
      async run(h) {
        const { job } = await read(h);
        const renamed = await h.call('PUT', '/jobs/nightly', { body: { ...job, name: 'other' } });
        expect(renamed.status).toBe(400);
        expect(renamed.json.error.details.issues).toEqual([
          expect.objectContaining({ in: 'body', path: 'name' }),
        ]);
        // The body's tenantId addresses the job as ?tenantId= does: this is acme's job of that name.
        const acmeCopy = await h.call('PUT', '/jobs/nightly', { body: { ...job, tenantId: 'acme' } });
        expect(acmeCopy.status, JSON.stringify(acmeCopy.json)).toBe(201);
        expect(acmeCopy.json.data).toMatchObject({ tenantId: 'acme', version: 1 });
        const query = await h.call('PUT', '/jobs/nightly?tenantId=', { body: { ...job, tenantId: 'acme' } });
        expect(query.status).toBe(400);
        expect(query.json.error.details.issues[0].path).toBe('tenantId');
        const patchMoved = await h.call('PATCH', '/jobs/nightly', { body: { tenantId: 'acme' } });
        expect(patchMoved.status).toBe(400);
        expect(patchMoved.json.error.details.issues[0].path).toBe('tenantId');
        const junk = await h.call('PUT', '/jobs/nightly', {
          body: job,
          headers: { 'if-match': 'yesterday' },
        });
        expect(junk.status).toBe(400);
        expect(junk.json.error.details.issues[0]).toMatchObject({ in: 'headers', path: 'if-match' });
        // Versions start at 1: "0" is a malformed header, not a body field out of range.
        for (const method of ['PUT', 'PATCH'] as const) {
          const zero = await h.call(method, '/jobs/nightly', {
            body: method === 'PUT' ? job : { schedule: '@hourly' },
            headers: { 'if-match': '"0"' },
          });
          expect(zero.status).toBe(400);
          expect(zero.json.error.details.issues).toEqual([
            expect.objectContaining({ in: 'headers', path: 'if-match' }),
          ]);
        }
        const disagree = await h.call('PUT', '/jobs/nightly', {
          body: job,
          headers: { 'if-match': `"${job.version + 5}"` },
        });
        expect(disagree.status).toBe(400);
        const gone = await h.call('PUT', '/jobs/deleted-meanwhile', {
          body: { schedule: '@daily', executor: 'sync' },
          headers: { 'if-match': '"1"' },
        });
        expect(gone.status).toBe(409);
        expect((await h.call('GET', '/jobs/deleted-meanwhile')).status).toBe(404);
        expect((await read(h)).job).toEqual(job);
      },
    },
    {
      name: 'If-Match on a write that cannot honour it (delete, pause, resume, trigger) is a 400 that changes nothing',
      async run(h) {
        const { job } = await read(h);
        const stale = { 'if-match': `"${job.version - 1 || 99}"` };
        for (const [method, path, body] of [
          ['DELETE', '/jobs/nightly', undefined],
          ['POST', '/jobs/nightly/pause', { note: 'x' }],
          ['POST', '/jobs/nightly/resume', {}],
          ['POST', '/jobs/nightly/trigger', {}],
        ] as const) {
          const refused = await h.call(method, path, { body, headers: stale });
          expect(refused.status).toBe(400);
          expect(refused.json.error.details.issues[0]).toMatchObject({ in: 'headers', path: 'if-match' });
        }
        expect((await read(h)).job).toEqual(job);
        expect((await h.call('GET', '/runs?job=nightly')).json.data.items).toEqual([]);
      },
    },
    {
      name: 'a tenant writes back its own job read from GET, and cannot reach another tenant through the body',
      async run(h) {
        expect(
          (await h.call('POST', '/jobs', { body: { ...FULL_JOB, name: 'mine' }, tenant: 'acme' })).status,
        ).toBe(201);
        const { job } = await read(h, '/jobs/mine', 'acme');
        expect(job.tenantId).toBe('acme');
        const put = await h.call('PUT', '/jobs/mine', {
          body: { ...job, description: 'edited by acme' },
          tenant: 'acme',
        });
        expect(put.status, JSON.stringify(put.json)).toBe(200);
        expect(put.json.data).toMatchObject({ tenantId: 'acme', description: 'edited by acme' });
        const otherTenant = await h.call('PUT', '/jobs/mine', {
          body: { ...job, tenantId: 'other' },
          tenant: 'acme',
        });
        expect(otherTenant.status).toBe(403);
      },
    },
    {
      name: "tells core's refusal of a body field as its own checks tell one: in body, body. in the message",
      async run(h) {
        const zone = await h.call('POST', '/jobs', { body: syncJob('zoned', { timezone: 'Mars/Olympus' }) });
        expect(zone.status).toBe(400);
        expect(zone.json.error.details.issues).toEqual([
          { in: 'body', path: 'timezone', message: expect.any(String) },
        ]);
        expect(zone.json.error.message).toMatch(/^body\.timezone: /);
        const cron = await h.call('POST', '/jobs', { body: syncJob('cron', { schedule: '61 * * * *' }) });
        expect(cron.json.error.details.issues).toEqual([
          { in: 'body', path: 'schedule', message: expect.any(String) },
        ]);
        await h.call('POST', '/jobs', { body: syncJob('sync') });
        const params = await h.call('POST', '/jobs/sync/trigger', { body: { params: { batchSize: 99 } } });
        expect(params.status).toBe(400);
        expect(params.json.error.details.issues).toEqual([
          { in: 'body', path: 'params.batchSize', message: expect.any(String) },
        ]);
        expect(params.json.error.message).toMatch(/^body\.params\.batchSize: /);
        const past = await h.call('POST', '/scheduled', {
          body: { job: 'sync', at: '2000-01-01T00:00:00Z' },
        });
        expect(past.status).toBe(400);
        expect(past.json.error.details.issues).toEqual([
          { in: 'body', path: 'at', message: expect.any(String) },
        ]);
      },
    },
  ],
};
