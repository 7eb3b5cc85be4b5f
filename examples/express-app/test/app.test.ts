import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningExample, startExampleApp } from '../src/app.js';

let app: RunningExample;
beforeAll(async () => {
  app = await startExampleApp({ port: 0 });
});
afterAll(() => app.close());

const api = (path: string, init: RequestInit & { token?: string } = {}) =>
  fetch(`${app.apiUrl}${path}`, {
    ...init,
    headers: {
      'content-type': 'application/json',
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...(init.headers as Record<string, string> | undefined),
    },
  });

describe('example app', () => {
  it('keeps its own routes and guards the API behind its session check', async () => {
    expect((await fetch(`${app.url}/health`)).status).toBe(200);
    expect((await api('/jobs')).status).toBe(401);
    expect((await api('/jobs', { token: 'viewer-token' })).status).toBe(200);
    expect((await api('/jobs/seed', { method: 'POST', token: 'viewer-token' })).status).toBe(403);
  });

  it('runs the README flow: seed, list, update, trigger, schedule, cancel, cleanup, run-due', async () => {
    const token = 'admin-token';
    expect((await api('/jobs/seed', { method: 'POST', token })).status).toBe(200);
    const jobs = (await (await api('/jobs', { token })).json()) as { data: Array<{ name: string }> };
    expect(jobs.data.map((job) => job.name)).toContain('morning-sync-3am');
    const put = await api('/jobs/morning-sync-3am', {
      method: 'PUT',
      token,
      body: JSON.stringify({ schedule: '0 4 * * *', enabled: true, description: 'Updated to 4 AM' }),
    });
    expect(put.status).toBe(200);
    const trigger = await api('/jobs/monitor-openai/trigger', { method: 'POST', token, body: '{}' });
    expect(trigger.status).toBe(202);
    expect(((await trigger.json()) as { data: { triggeredBy: string } }).data.triggeredBy).toBe('admin');
    const at = new Date(Date.now() + 3_600_000).toISOString();
    const scheduled = await api('/scheduled', {
      method: 'POST',
      token,
      body: JSON.stringify({ job: 'monitor-openai', at, params: {} }),
    });
    expect(scheduled.status).toBe(201);
    const { data: run } = (await scheduled.json()) as { data: { id: string } };
    expect((await api(`/scheduled/${run.id}`, { method: 'DELETE', token })).status).toBe(200);
    const cleanup = await api('/maintenance/cleanup-stale', { method: 'POST', token, body: '{}' });
    expect(((await cleanup.json()) as { data: { updated: number } }).data.updated).toBe(0);
    const due = await api('/run-due', { method: 'POST', token, body: '{}' });
    expect(((await due.json()) as { data: { summary: object } }).data.summary).toHaveProperty('total');
  });

  it('a tenant session only sees its tenant and the global jobs', async () => {
    const jobs = (await (await api('/jobs', { token: 'acme-token' })).json()) as {
      data: Array<{ tenantId: string | null }>;
    };
    expect(jobs.data.every((job) => job.tenantId === 'acme' || job.tenantId === null)).toBe(true);
  });

  it('signs a browser in with a cookie and serves the dashboard', async () => {
    const login = await fetch(app.loginUrl, { redirect: 'manual' });
    expect(login.status).toBe(302);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const page = await fetch(`${app.apiUrl}/`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/);
  });
});
