import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningExample, startExampleApp } from '../src/app.js';

// The example as its README runs it: Hono on Node, called over real HTTP.
let app: RunningExample;
beforeAll(async () => {
  app = await startExampleApp({ port: 0, heartbeatSecret: 'test-secret', start: false });
});
afterAll(() => app.close());

const admin = { authorization: 'Bearer admin-token' };
const json = { ...admin, 'content-type': 'application/json' };

describe('Hono example', () => {
  it('keeps its own routes and guards the API behind its token check', async () => {
    expect(await (await fetch(`${app.url}/health`)).json()).toEqual({ ok: true });
    expect((await fetch(`${app.apiUrl}/jobs`)).status).toBe(401);
    const viewer = await fetch(`${app.apiUrl}/jobs/monitor-openai/trigger`, {
      method: 'POST',
      headers: { authorization: 'Bearer viewer-token', 'content-type': 'application/json' },
    });
    expect(viewer.status).toBe(403);
    const jobs = await (await fetch(`${app.apiUrl}/jobs`, { headers: admin })).json();
    expect(jobs.data.map((job: { name: string }) => job.name)).toEqual(
      expect.arrayContaining(['monitor-openai', 'morning-sync-3am']),
    );
  });

  it('triggers a job, streams its events, and the heartbeat runs it', async () => {
    const controller = new AbortController();
    const events = await fetch(`${app.apiUrl}/events`, { headers: admin, signal: controller.signal });
    expect(events.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const trigger = await fetch(`${app.apiUrl}/jobs/morning-sync-3am/trigger`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ params: { batchSize: 7 } }),
    });
    expect(trigger.status).toBe(202);
    const run = (await trigger.json()).data;
    expect(run).toMatchObject({ status: 'pending', triggeredBy: 'admin' });

    expect((await fetch(`${app.url}/api/heartbeat`, { method: 'POST' })).status).toBe(401);
    const wrong = await fetch(`${app.url}/api/heartbeat`, {
      method: 'POST',
      headers: { authorization: 'Bearer test-secreT' },
    });
    expect(wrong.status).toBe(401);
    const beat = await fetch(`${app.url}/api/heartbeat`, {
      method: 'POST',
      headers: { authorization: 'Bearer test-secret' },
    });
    expect((await beat.json()).data).toMatchObject({ executed: 1, failed: 0 });
    expect(await app.scheduler.runs.get(run.id)).toMatchObject({
      status: 'succeeded',
      result: { invoices: 7 },
    });

    const reader = (events.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('event: run:succeeded')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    expect(text).toContain(run.id);
  });

  it('refuses a cross-site form post and a change that is not JSON', async () => {
    const form = await fetch(`${app.apiUrl}/run-due`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'limit=1',
    });
    expect(form.status).toBe(415);
    const crossSite = await fetch(`${app.apiUrl}/run-due`, {
      method: 'POST',
      headers: { ...json, origin: 'https://attacker.example', 'sec-fetch-site': 'cross-site' },
    });
    expect(crossSite.status).toBe(403);
  });

  it('serves the dashboard to a signed-in browser, at the mount path with and without its slash', async () => {
    const login = await fetch(`${app.url}/login?token=admin-token`, { redirect: 'manual' });
    expect(login.status).toBe(302);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    for (const path of ['/api/cron/', '/api/cron']) {
      const page = await fetch(`${app.url}${path}`, { headers: { cookie } });
      expect(page.status, path).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      const html = await page.text();
      const script = /<script src="([^"]+)"/.exec(html)?.[1] as string;
      const asset = await fetch(new URL(script, `${app.url}${path}`), { headers: { cookie } });
      expect(asset.headers.get('content-type'), path).toMatch(/javascript/);
    }
  });
});
