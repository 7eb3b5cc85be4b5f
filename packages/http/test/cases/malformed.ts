import { expect } from 'vitest';
import { syncJob } from '../support/harness.js';
import { storeSnapshot } from './security.js';
import type { Suite } from './table.js';

interface Probe {
  method: string;
  path: string;
  body?: unknown;
  raw?: string;
  contentType?: string;
}

const BODY_ROUTES: Array<[string, string]> = [
  ['POST', '/jobs'],
  ['PUT', '/jobs/a'],
  ['PATCH', '/jobs/a'],
  ['POST', '/jobs/seed'],
  ['POST', '/jobs/preview'],
  ['POST', '/jobs/a/pause'],
  ['POST', '/jobs/a/resume'],
  ['POST', '/jobs/a/trigger'],
  ['POST', '/executors/sync/trigger'],
  ['POST', '/scheduled'],
  ['POST', '/run-due'],
  ['POST', '/maintenance/cleanup-stale'],
  ['POST', '/maintenance/prune'],
  ['POST', '/reload'],
];

const HUGE = 'x'.repeat(200_000);
const LONG = 'y'.repeat(5_000);
// Nesting deep enough to overflow a recursive validator, written as text (JSON.stringify would overflow).
const DEEP = `${'['.repeat(5_000)}1${']'.repeat(5_000)}`;

const WRONG_BODIES: unknown[] = [
  [],
  [1, 2],
  'a string',
  42,
  true,
  { unknown: 1 },
  { name: 42 },
  { name: '', schedule: 'daily', executor: 'sync' },
  { name: LONG, schedule: 'daily', executor: 'sync' },
  { name: 'n', schedule: 'every now and then', executor: 'sync' },
  { name: 'n', schedule: '* * * * * * *', executor: 'sync' },
  // Names of Object's own properties: a schedule is never looked up among them.
  { schedule: 'constructor' },
  { name: 'n', schedule: '__proto__', executor: 'sync' },
  { name: 'n', schedule: 'cron:toString', executor: 'sync' },
  { name: 'n', schedule: '0 3 * * *', executor: 'sync', timezone: 'Not/AZone' },
  { name: 'n', schedule: '0 3 * * *', executor: 'sync', timezone: LONG },
  { name: 'n', schedule: '0 3 * * *', executor: 'sync', activeFrom: 'yesterday-ish' },
  { name: 'n', schedule: '0 3 * * *', executor: 'sync', retry: { limit: -1 } },
  { name: 'n', schedule: '0 3 * * *', executor: 'sync', params: [] },
  { name: 'n', schedule: '0 3 * * *', tasks: [] },
  { name: 'n', schedule: '0 3 * * *', tasks: [{ executor: 'sync', evil: true }] },
  { name: 'n', schedule: '0 3 * * *', executor: 'sync', timeout: 'forever' },
  { name: 'n', schedule: '0 3 * * *', executor: 'sync', priority: 1e308 },
  { jobs: 'all' },
  { jobs: [{}] },
  { note: 5 },
  { params: 'x' },
  { params: { batchSize: 'many' } },
  { force: 'yes' },
  { job: 'a', at: '2001-01-01T00:00:00Z' },
  { job: 'a', at: 'not a date' },
  { executor: 'sync', at: '2026-13-45T99:99:99Z' },
  { job: 'a', executor: 'sync', at: '2030-01-01T00:00:00Z' },
  { at: '2030-01-01T00:00:00Z' },
  { executor: 'ghost', at: '2030-01-01T00:00:00Z' },
  { limit: 0 },
  { limit: 'ten' },
  { olderThan: '3 days' },
  { olderThan: -5 },
  { description: HUGE },
  { __proto__: { polluted: true }, constructor: { prototype: {} } },
];

const BAD_RAW: Array<[string, string | undefined]> = [
  ['{oops', 'application/json'],
  ['{"name": "a",}', 'application/json'],
  ['null', 'application/json'],
  ['"just a string"', 'application/json'],
  ['\u0000\u0001', 'application/json'],
  ['name=a&schedule=daily', 'application/x-www-form-urlencoded'],
  ['<xml/>', 'text/xml'],
  ['{"a":1}', 'application/json; charset=latin-9'],
  [`{"description":"${HUGE}${HUGE}"}`, 'application/json'],
  [DEEP, 'application/json'],
  [`{"name":"n","schedule":"daily","executor":"sync","params":{"deep":${DEEP}}}`, 'application/json'],
  [`{"params":{"deep":${DEEP}}}`, 'application/json'],
  [
    `{"name":"n","schedule":"daily","executor":"sync","metadata":${'{"a":'.repeat(40)}1${'}'.repeat(40)}}`,
    'application/json',
  ],
];

const BAD_PATHS: string[] = [
  '/jobs/%E0%A4%A',
  '/jobs/%',
  `/jobs/${'z'.repeat(300)}`,
  '/jobs/%20a%20',
  '/jobs/a%2Fb',
  '/runs/%00',
  '/runs/not-a-real-id',
  `/runs/${'9'.repeat(400)}`,
  '/runs/..%2F..%2Fetc',
  '/runs/%E2%82%AC',
  '/runs/a b/cancel',
  '/scheduled/%FF',
  '/executors/%C0%AF/trigger',
  '/jobs/a/trigger/extra',
  '/nowhere',
];

const BAD_QUERIES: string[] = [
  '/jobs?enabled=maybe',
  '/jobs?enabled=true&enabled=false',
  '/jobs?tenantId[$ne]=x',
  '/jobs?surprise=1',
  `/jobs?tenantId=${'t'.repeat(300)}`,
  '/runs?status=exploded',
  '/runs?status=',
  '/runs?trigger=cosmic',
  '/runs?limit=0',
  '/runs?limit=-1',
  '/runs?limit=1e3',
  '/runs?limit=99999999999',
  '/runs?since=yesterday',
  '/runs?until=2026-99-99',
  '/runs?cursor=!!!',
  '/runs?cursor=W10',
  '/runs?cursor=bm90IGpzb24',
  '/runs?cursor=WzEsMl0',
  `/runs?cursor=${'A'.repeat(600)}`,
  '/runs?job=',
  '/runs?job[0]=a',
  '/scheduled?status=triggered',
  '/scheduled?status[]=pending',
  '/stats?days=0',
  '/stats?days=367',
  '/stats?days=seven',
  '/stats?since=soon',
  '/dashboard?locale=../../etc',
  '/dashboard?locale=',
  '/events?tenantId[a]=b',
  '/executors?x=1',
];

function probes(): Probe[] {
  const list: Probe[] = [];
  for (const [method, path] of BODY_ROUTES) {
    for (const body of WRONG_BODIES) list.push({ method, path, body });
    for (const [raw, contentType] of BAD_RAW)
      list.push({ method, path, raw, ...(contentType ? { contentType } : {}) });
  }
  for (const path of BAD_PATHS)
    for (const method of ['GET', 'POST', 'DELETE', 'PATCH']) list.push({ method, path });
  for (const path of BAD_QUERIES) list.push({ method: 'GET', path });
  return list;
}

export const malformedSuite: Suite = {
  name: 'malformed requests',
  options: { rateLimits: false },
  setup: async (h) => {
    await h.call('POST', '/jobs', { body: syncJob('a') });
  },
  cases: [
    {
      name: 'are refused with a 4xx and the JSON error envelope, and change nothing in the store',
      timeout: 60_000,
      async run(h) {
        const all = probes();
        expect(all.length).toBeGreaterThanOrEqual(300);
        const before = await storeSnapshot(h);
        const failures: string[] = [];
        const statuses = new Map<number, number>();
        for (let i = 0; i < all.length; i += 16) {
          await Promise.all(
            all.slice(i, i + 16).map(async (probe) => {
              const headers: Record<string, string> = {};
              if (probe.contentType) headers['content-type'] = probe.contentType;
              const answer = await h.call(probe.method, probe.path, {
                ...(probe.body === undefined ? {} : { body: probe.body }),
                ...(probe.raw === undefined ? {} : { raw: probe.raw }),
                headers,
              });
              statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
              const label = `${probe.method} ${probe.path.slice(0, 60)} ${JSON.stringify(probe.body ?? probe.raw)?.slice(0, 80)}`;
              // Every probe is wrong somewhere: any answer but a 4xx error is a failure, 2xx included.
              if (answer.status < 400 || answer.status >= 500)
                failures.push(`${answer.status} ${label}: ${answer.text.slice(0, 200)}`);
              else if (typeof answer.json?.error?.code !== 'string')
                failures.push(`${answer.status} without error envelope: ${label}`);
            }),
          );
        }
        expect(failures).toEqual([]);
        // Nothing was created, changed, triggered or cancelled by any of them.
        expect(await storeSnapshot(h)).toBe(before);
        expect([...statuses.keys()].every((status) => status >= 400 && status < 500)).toBe(true);
      },
    },
    {
      name: 'names the unknown field, the JSON error and the size limit',
      async run(h) {
        const unknown = await h.call('POST', '/jobs', { body: { ...syncJob('b'), colour: 'blue' } });
        expect(unknown.status).toBe(400);
        expect(unknown.json.error.details.issues).toContainEqual({
          in: 'body',
          path: 'colour',
          message: 'unknown field: colour',
        });
        const json = await h.call('POST', '/jobs', { raw: '{"name":' });
        expect(json.status).toBe(400);
        expect(json.json.error.code).toBe('INVALID_JSON');
        const huge = await h.call('POST', '/jobs', {
          body: { ...syncJob('c'), description: 'x'.repeat(200_000) },
        });
        expect(huge.status).toBe(413);
        expect(huge.json.error.code).toBe('PAYLOAD_TOO_LARGE');
      },
    },
    {
      name: 'unknown routes are 404 and known paths with another method are 405 with Allow',
      async run(h) {
        expect((await h.call('GET', '/nowhere')).status).toBe(404);
        const wrongMethod = await h.call('DELETE', '/runs');
        expect(wrongMethod.status).toBe(405);
        expect(wrongMethod.headers.get('allow')).toBe('GET');
      },
    },
  ],
};
