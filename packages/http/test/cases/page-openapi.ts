import { expect } from 'vitest';
import type { Suite } from './table.js';

const MOUNT = '/api/cron';

export const pageSuite: Suite = {
  name: 'dashboard page',
  options: { dashboard: true },
  cases: [
    {
      name: 'serves the page with a strict CSP, and its assets',
      async run(h) {
        const page = await h.call('GET', '/');
        expect(page.status).toBe(200);
        expect(page.headers.get('content-type')).toMatch(/^text\/html/);
        expect(page.text).toMatch(/^<!doctype html>/i);
        const csp = page.headers.get('content-security-policy') ?? '';
        expect(csp).toContain("default-src 'none'");
        expect(csp).toMatch(/script-src 'self'/);
        expect(csp).not.toContain('unsafe-inline');
        const script = await h.call('GET', '/assets/dashboard.js');
        expect(script.headers.get('content-type')).toMatch(/javascript/);
        const style = await h.call('GET', '/assets/dashboard.css');
        expect(style.headers.get('content-type')).toMatch(/text\/css/);
      },
    },
    {
      name: 'at the mount path without its slash, the page’s asset URLs still resolve under the mount path',
      async run(h) {
        const bare = await h.sendRaw(MOUNT, { 'x-user': 'alice' });
        let pageUrl = `http://host.test${MOUNT}`;
        let page = bare;
        if (bare.status === 302) {
          // Redirected to the trailing-slash form, by path only.
          expect(bare.headers.get('location')).toBe(`${MOUNT}/`);
          pageUrl = `http://host.test${MOUNT}/`;
          page = await h.send('/', { headers: { 'x-user': 'alice' } });
        }
        expect(page.status).toBe(200);
        const html = await page.text();
        const assets = [...html.matchAll(/\s(?:src|href)="([^"]+)"/g)]
          .map((match) => match[1] as string)
          .filter((href) => !href.startsWith('data:') && !href.startsWith('#'))
          .map((href) => new URL(href, pageUrl).pathname);
        expect(assets.sort()).toEqual([`${MOUNT}/assets/dashboard.css`, `${MOUNT}/assets/dashboard.js`]);
      },
    },
    {
      name: 'asks authorize for dashboard:view',
      async run(h) {
        expect((await h.call('GET', '/', { user: null })).status).toBe(401);
      },
    },
    {
      name: 'is not served unless dashboard: true',
      options: { dashboard: false },
      async run(h) {
        expect((await h.call('GET', '/')).status).toBe(404);
      },
    },
  ],
};

export const openApiSuite: Suite = {
  name: 'GET /openapi.json',
  cases: [
    {
      name: 'serves the document itself and describes every route from the zod schemas',
      async run(h) {
        const answer = await h.call('GET', '/openapi.json');
        expect(answer.status).toBe(200);
        expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
        // The document itself, not wrapped in { data }, so Swagger UI and generators can load the URL.
        expect(answer.json.data).toBeUndefined();
        const doc = answer.json;
        expect(doc.openapi).toBe('3.1.0');
        const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(
          ([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
        );
        for (const route of [
          'GET /jobs',
          'POST /jobs',
          'GET /jobs/{name}',
          'PUT /jobs/{name}',
          'PATCH /jobs/{name}',
          'DELETE /jobs/{name}',
          'POST /jobs/seed',
          'POST /reload',
          'POST /jobs/{name}/pause',
          'POST /jobs/{name}/resume',
          'POST /jobs/{name}/trigger',
          'POST /executors/{name}/trigger',
          'GET /executors',
          'POST /run-due',
          'GET /runs',
          'GET /runs/{id}',
          'POST /runs/{id}/cancel',
          'POST /scheduled',
          'GET /scheduled',
          'DELETE /scheduled/{id}',
          'POST /maintenance/cleanup-stale',
          'POST /maintenance/prune',
          'GET /dashboard',
          'GET /stats',
          'GET /events',
          'GET /openapi.json',
        ])
          expect(routes).toContain(route);
        const create = doc.paths['/jobs'].post.requestBody.content['application/json'].schema;
        expect(create.required).toEqual(expect.arrayContaining(['name', 'schedule']));
        expect(create.additionalProperties).toBe(false);
        expect(create.properties.overlap.enum).toEqual(['skip', 'queue', 'allow']);
        const runsParams = doc.paths['/runs'].get.parameters.map((p: { name: string }) => p.name);
        expect(runsParams).toEqual(expect.arrayContaining(['status', 'job', 'cursor', 'limit', 'since']));
        expect(doc.paths['/jobs/{name}/trigger'].post.responses['429']).toBeDefined();
        const run =
          doc.paths['/jobs/{name}/trigger'].post.responses['202'].content['application/json'].schema;
        expect(run.properties.data.properties.status.enum).toContain('running');
        const job = doc.paths['/jobs/{name}'].get.responses['200'].content['application/json'].schema;
        expect(job.properties.data.properties.nextRunAt).toBeDefined();
        expect(JSON.stringify(doc)).not.toContain('$defs');
      },
    },
    {
      name: 'says what the routes actually answer: every field of a run and a job, statuses and headers',
      async run(h) {
        const doc = (await h.call('GET', '/openapi.json')).json;
        const dataKeys = (path: string, method: string, status: string): string[] =>
          Object.keys(
            doc.paths[path][method].responses[status].content['application/json'].schema.properties.data
              .properties,
          );
        // A job created and triggered over the API: every key it answers is in the schema.
        const created = await h.call('PUT', '/jobs/documented', {
          body: { schedule: 'daily', executor: 'sync' },
        });
        expect(created.status).toBe(201);
        const put = doc.paths['/jobs/{name}'].put;
        expect(Object.keys(put.responses)).toEqual(expect.arrayContaining(['200', '201']));
        expect(dataKeys('/jobs/{name}', 'get', '200')).toEqual(
          expect.arrayContaining(Object.keys(created.json.data)),
        );
        const triggered = await h.call('POST', '/jobs/documented/trigger', { body: {} });
        expect(triggered.status).toBe(202);
        const run = (await h.call('GET', `/runs/${triggered.json.data.id}`)).json.data;
        expect(dataKeys('/runs/{id}', 'get', '200')).toEqual(expect.arrayContaining(Object.keys(run)));
        // Headers: the job's ETag, If-Match on its writes, the jobs list's next cursor.
        expect(created.headers.get('etag')).toBe('"1"');
        expect(doc.paths['/jobs/{name}'].get.responses['200'].headers.ETag).toBeDefined();
        expect(put.responses['201'].headers.ETag).toBeDefined();
        expect(dataKeys('/jobs/{name}', 'put', '201')).toEqual(
          expect.arrayContaining(Object.keys(created.json.data)),
        );
        for (const method of ['put', 'patch'])
          expect(doc.paths['/jobs/{name}'][method].parameters.map((p: { name: string }) => p.name)).toContain(
            'If-Match',
          );
        expect(doc.paths['/jobs'].get.responses['200'].headers['X-Next-Cursor']).toBeDefined();
        expect(Object.keys(doc.paths['/health'].get.responses)).toEqual(
          expect.arrayContaining(['200', '503']),
        );
        expect(doc.paths['/jobs'].get.responses['500']).toBeDefined();
      },
    },
  ],
};
