import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './helpers.js';

let h: Harness;
afterEach(() => h.close());

describe('dashboard page', () => {
  it('redirects the mount path to its trailing-slash form and serves the page with a strict CSP', async () => {
    h = await startHarness({ dashboard: true });
    const bare = await fetch(h.base, { headers: { 'x-user': 'alice' }, redirect: 'manual' });
    expect(bare.status).toBe(302);
    expect(bare.headers.get('location')).toBe('/api/cron/');
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
  });

  it('asks authorize for dashboard:view', async () => {
    h = await startHarness({ dashboard: true });
    expect((await h.call('GET', '/', { user: null })).status).toBe(401);
  });

  it('is not served unless dashboard: true', async () => {
    h = await startHarness();
    expect((await h.call('GET', '/')).status).toBe(404);
  });
});

describe('GET /openapi.json', () => {
  it('describes every route with its parameters and bodies from the zod schemas', async () => {
    h = await startHarness();
    const doc = (await h.call('GET', '/openapi.json')).json.data;
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
    const run = doc.paths['/jobs/{name}/trigger'].post.responses['202'].content['application/json'].schema;
    expect(run.properties.data.properties.status.enum).toContain('running');
    const job = doc.paths['/jobs/{name}'].get.responses['200'].content['application/json'].schema;
    expect(job.properties.data.properties.nextRunAt).toBeDefined();
    expect(JSON.stringify(doc)).not.toContain('$defs');
  });
});
