import { expect } from 'vitest';
import { type Harness, syncJob } from '../support/harness.js';
import type { Suite } from './table.js';

const MOUNT = '/api/cron';

/** Everything a request could have changed: every job and every run, as stored. */
export async function storeSnapshot(h: Harness): Promise<string> {
  const jobs = await h.scheduler.jobs.list({});
  const runs = await h.scheduler.runs.list({ limit: 500 });
  return JSON.stringify({ jobs, runs: runs.items });
}

/** A job, a pending run of it and a pending one-off: something for every change to change. */
async function changeTargets(h: Harness): Promise<{ runId: string; onceId: string }> {
  await h.call('POST', '/jobs', { body: syncJob('a') });
  const run = await h.call('POST', '/jobs/a/trigger');
  const once = await h.call('POST', '/scheduled', { body: { executor: 'sync', at: '2026-03-29T11:00:00Z' } });
  expect([run.status, once.status]).toEqual([202, 201]);
  return { runId: run.json.data.id, onceId: once.json.data.id };
}

/** Every route that changes something, each with a body it would accept. */
function changes(ids: { runId: string; onceId: string }): Array<[string, string, unknown]> {
  return [
    ['POST', '/jobs', syncJob('created-by-attacker')],
    ['PUT', '/jobs/a', { schedule: '* * * * *' }],
    ['PUT', '/jobs/new-one', { schedule: '* * * * *', executor: 'sync' }],
    ['PATCH', '/jobs/a', { enabled: false }],
    ['DELETE', '/jobs/a', undefined],
    ['POST', '/jobs/seed', {}],
    ['POST', '/reload', {}],
    ['POST', '/jobs/a/pause', {}],
    ['POST', '/jobs/a/resume', {}],
    ['POST', '/jobs/a/trigger', { force: true }],
    ['POST', '/executors/sync/trigger', {}],
    ['POST', '/scheduled', { executor: 'sync', at: '2026-03-30T00:00:00Z' }],
    ['POST', '/run-due', {}],
    ['POST', '/maintenance/cleanup-stale', { olderThan: 0 }],
    ['POST', '/maintenance/prune', { olderThan: 0 }],
    ['POST', `/runs/${ids.runId}/cancel`, {}],
    ['DELETE', `/scheduled/${ids.onceId}`, undefined],
  ];
}

// What a cross-site form or a `no-cors` fetch can send without a preflight, and near misses.
const NOT_JSON = [
  null,
  'text/plain',
  'text/plain;charset=UTF-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=----x',
  'application/jsonp',
  'text/json',
];

/** The same scheme and host on the next port. */
function otherPort(origin: string): string {
  const url = new URL(origin);
  url.port = String((Number(url.port) || (url.protocol === 'https:' ? 443 : 80)) + 1);
  return url.origin;
}

export const csrfSuite: Suite = {
  name: 'cross-site changes (CSRF)',
  options: { rateLimits: false },
  cases: [
    {
      name: 'every change without Content-Type: application/json is a 415 and changes nothing, bodyless ones included',
      async run(h) {
        const ids = await changeTargets(h);
        const before = await storeSnapshot(h);
        const wrong: string[] = [];
        for (const [method, path, body] of changes(ids)) {
          for (const type of NOT_JSON) {
            const headers: Record<string, string> = { 'x-user': 'alice' };
            if (type !== null) headers['content-type'] = type;
            const answer = await h.send(path, {
              method,
              headers,
              // No type at all is what a bodyless no-cors fetch sends.
              ...(type === null || body === undefined ? {} : { body: JSON.stringify(body) }),
            });
            const json = await answer.json().catch(() => null);
            if (answer.status !== 415 || json?.error?.code !== 'UNSUPPORTED_MEDIA_TYPE')
              wrong.push(`${method} ${path} [${type}] → ${answer.status}`);
          }
        }
        expect(wrong).toEqual([]);
        expect(await storeSnapshot(h)).toBe(before);
      },
    },
    {
      name: 'a change the browser marks cross-site (Sec-Fetch-Site) is a 403 and changes nothing',
      async run(h) {
        const ids = await changeTargets(h);
        const before = await storeSnapshot(h);
        for (const [method, path, body] of changes(ids)) {
          const answer = await h.call(method, path, {
            ...(body === undefined ? {} : { body }),
            headers: { 'sec-fetch-site': 'cross-site', origin: 'https://attacker.example' },
          });
          expect(answer.status, `${method} ${path}`).toBe(403);
          expect(answer.json.error.details.reason).toBe('cross-site');
        }
        expect(await storeSnapshot(h)).toBe(before);
      },
    },
    {
      name: 'a change from another origin is a 403, a sibling origin of the same site and Origin: null included',
      async run(h) {
        const ids = await changeTargets(h);
        const before = await storeSnapshot(h);
        const sibling = h.origin.replace('://', '://evil.');
        const refused: Array<Record<string, string>> = [
          { origin: 'https://attacker.example' },
          { origin: sibling, 'sec-fetch-site': 'same-site' },
          { origin: 'null' },
          { origin: 'null', 'sec-fetch-site': 'cross-site' },
          { origin: 'not an origin' },
          // The API's own host under another scheme or port is another origin.
          { origin: h.origin.replace(/^http:/, 'https:') },
          { origin: otherPort(h.origin) },
          {
            origin: 'http://cron.example.com',
            'x-forwarded-host': 'cron.example.com',
            'x-forwarded-proto': 'https',
          },
        ];
        for (const headers of refused) {
          for (const [method, path, body] of changes(ids)) {
            const answer = await h.call(method, path, { ...(body === undefined ? {} : { body }), headers });
            expect(answer.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(403);
          }
        }
        expect(await storeSnapshot(h)).toBe(before);
      },
    },
    {
      name: 'the API’s own origin, a trusted origin and a proxy’s forwarded host may change things',
      options: { trustedOrigins: ['https://admin.example.com'] },
      async run(h) {
        await h.call('POST', '/jobs', { body: syncJob('a', { overlap: 'allow' }) });
        const accepted: Array<Record<string, string>> = [
          { origin: h.origin, 'sec-fetch-site': 'same-origin' },
          { origin: h.origin },
          { 'sec-fetch-site': 'none' },
          { 'sec-fetch-site': 'same-origin' },
          { origin: 'https://admin.example.com', 'sec-fetch-site': 'cross-site' },
          {
            origin: 'https://cron.example.com',
            'x-forwarded-host': 'cron.example.com',
            'x-forwarded-proto': 'https',
          },
          {
            origin: 'https://cron.example.com:8443',
            'x-forwarded-host': 'cron.example.com:8443',
            'x-forwarded-proto': 'https',
          },
          {},
        ];
        for (const headers of accepted)
          expect((await h.call('POST', '/jobs/a/trigger', { headers })).status, JSON.stringify(headers)).toBe(
            202,
          );
      },
    },
    {
      name: 'reads are answered whatever their origin (a cross-site page cannot read the answer)',
      async run(h) {
        const answer = await h.call('GET', '/jobs', {
          headers: { 'sec-fetch-site': 'cross-site', origin: 'https://attacker.example' },
        });
        expect(answer.status).toBe(200);
      },
    },
  ],
};

export const headerSuite: Suite = {
  name: 'response headers and HEAD',
  options: { dashboard: true, rateLimits: false },
  cases: [
    {
      name: 'every JSON answer carries X-Content-Type-Options: nosniff, errors included',
      async run(h) {
        await h.call('POST', '/jobs', { body: syncJob('a') });
        const answers = [
          await h.call('GET', '/jobs'),
          await h.call('POST', '/jobs', { body: syncJob('b') }),
          await h.call('GET', '/jobs/nope'),
          await h.call('GET', '/jobs', { user: null }),
          await h.call('GET', '/nowhere'),
          await h.call('DELETE', '/runs'),
          await h.call('POST', '/jobs', { raw: '{oops' }),
          await h.call('POST', '/jobs', { raw: 'a=1', headers: { 'content-type': 'text/plain' } }),
          await h.call('POST', '/jobs', { body: { description: 'x'.repeat(200_000) } }),
          await h.call('GET', '/openapi.json'),
          await h.call('POST', '/jobs/a/trigger'),
        ];
        for (const answer of answers) {
          expect(answer.headers.get('content-type'), String(answer.status)).toMatch(/^application\/json/);
          expect(answer.headers.get('x-content-type-options'), String(answer.status)).toBe('nosniff');
        }
        expect(answers.map((answer) => answer.status)).toEqual([
          200, 201, 404, 401, 404, 405, 400, 415, 413, 200, 202,
        ]);
      },
    },
    {
      name: 'HEAD /events answers the stream’s headers and ends, subscribing to nothing',
      timeout: 5_000,
      async run(h) {
        const answer = await h.sendRaw(`${MOUNT}/events`, { 'x-user': 'alice' }, 'HEAD');
        expect(answer.status).toBe(200);
        expect(answer.headers.get('content-type')).toMatch(/^text\/event-stream/);
        expect(await answer.text()).toBe('');
        expect(h.listeners()).toBe(0);
      },
    },
    {
      name: 'HEAD of a JSON route answers its headers without a body',
      async run(h) {
        const answer = await h.sendRaw(`${MOUNT}/jobs`, { 'x-user': 'alice' }, 'HEAD');
        expect(answer.status).toBe(200);
        expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
        expect(await answer.text()).toBe('');
      },
    },
    {
      name: 'an absolute-form request line never puts its host in a redirect or the page',
      async run(h) {
        for (const target of [`http://evil.example${MOUNT}`, `http://evil.example${MOUNT}?next=1`]) {
          const answer = await h.sendRaw(target, { 'x-user': 'alice' });
          const location = answer.headers.get('location');
          const body = await answer.text();
          expect([200, 302], target).toContain(answer.status);
          if (answer.status === 302)
            expect(location).toBe(`${MOUNT}/${target.includes('?') ? '?next=1' : ''}`);
          expect(`${location} ${body}`).not.toContain('evil.example');
        }
      },
    },
  ],
};
