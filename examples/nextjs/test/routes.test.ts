import { afterAll, describe, expect, it } from 'vitest';
import * as catchAll from '../src/app/api/cron/[...path]/route.js';
import * as mountRoot from '../src/app/api/cron/route.js';
import * as heartbeat from '../src/app/api/heartbeat/route.js';
import { scheduler } from '../src/lib/scheduler.js';

// The app's route handlers called as Next.js calls them: with a web `Request` for the URL the
// browser asked for. (`next build` of the same files runs in CI.)
const ORIGIN = 'http://localhost:3000';
const admin = { authorization: 'Bearer admin-token' };
const json = { ...admin, 'content-type': 'application/json' };
const request = (path: string, init: RequestInit = {}) => new Request(`${ORIGIN}${path}`, init);

afterAll(() => scheduler.stop({ grace: '1s' }));

describe('Next.js route handlers', () => {
  it('export every method from the catch-all, and only GET from the mount root', () => {
    const { GET, POST, PUT, PATCH, DELETE } = catchAll;
    for (const handler of [GET, POST, PUT, PATCH, DELETE]) expect(typeof handler).toBe('function');
    expect(Object.keys(mountRoot).filter((name) => /^[A-Z]+$/.test(name))).toEqual(['GET']);
    expect(catchAll.dynamic).toBe('force-dynamic');
  });

  it('serve the API behind the token check, with the default jobs seeded on first use', async () => {
    expect((await catchAll.GET(request('/api/cron/jobs'))).status).toBe(401);
    const jobs = await catchAll.GET(request('/api/cron/jobs', { headers: admin }));
    expect(jobs.status).toBe(200);
    expect((await jobs.json()).data.map((job: { name: string }) => job.name)).toEqual(
      expect.arrayContaining(['morning-sync-3am', 'monitor-openai']),
    );
    const viewer = await catchAll.POST(
      request('/api/cron/jobs/monitor-openai/trigger', {
        method: 'POST',
        headers: { authorization: 'Bearer viewer-token', 'content-type': 'application/json' },
      }),
    );
    expect(viewer.status).toBe(403);
  });

  it('run a manual trigger only when the heartbeat comes, and only with the secret', async () => {
    const trigger = await catchAll.POST(
      request('/api/cron/jobs/morning-sync-3am/trigger', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ params: { batchSize: 4 } }),
      }),
    );
    expect(trigger.status).toBe(202);
    const run = (await trigger.json()).data;

    delete process.env.CRON_SECRET;
    // No secret configured: the heartbeat refuses everyone, even an empty bearer.
    expect(
      (await heartbeat.GET(request('/api/heartbeat', { headers: { authorization: 'Bearer ' } }))).status,
    ).toBe(401);
    process.env.CRON_SECRET = 'heartbeat-secret';
    const wrong = await heartbeat.GET(
      request('/api/heartbeat', { headers: { authorization: 'Bearer nope' } }),
    );
    expect(wrong.status).toBe(401);
    expect((await scheduler.runs.get(run.id)).status).toBe('pending');
    const beat = await heartbeat.GET(
      request('/api/heartbeat', { headers: { authorization: 'Bearer heartbeat-secret' } }),
    );
    expect(beat.status).toBe(200);
    expect((await beat.json()).data).toMatchObject({ executed: 1, failed: 0 });
    expect(await scheduler.runs.get(run.id)).toMatchObject({ status: 'succeeded', result: { invoices: 4 } });
  });

  it('refuse a form post and a cross-site change', async () => {
    const form = await catchAll.POST(
      request('/api/cron/run-due', {
        method: 'POST',
        headers: { ...admin, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'limit=1',
      }),
    );
    expect(form.status).toBe(415);
    const crossSite = await catchAll.POST(
      request('/api/cron/run-due', {
        method: 'POST',
        headers: { ...json, origin: 'https://attacker.example', 'sec-fetch-site': 'cross-site' },
      }),
    );
    expect(crossSite.status).toBe(403);
  });

  it('serve the dashboard at /api/cron, its assets through the catch-all', async () => {
    const page = await mountRoot.GET(request('/api/cron', { headers: admin }));
    expect(page.status).toBe(200);
    const html = await page.text();
    const script = /<script src="([^"]+)"/.exec(html)?.[1] as string;
    const scriptUrl = new URL(script, `${ORIGIN}/api/cron`);
    expect(scriptUrl.pathname).toBe('/api/cron/assets/dashboard.js');
    const asset = await catchAll.GET(request(scriptUrl.pathname, { headers: admin }));
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
  });

  it('stream events, and let go of the scheduler when the client leaves', async () => {
    const client = new AbortController();
    const events = await catchAll.GET(request('/api/cron/events', { headers: admin, signal: client.signal }));
    expect(events.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = (events.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('retry: 3000');
    client.abort();
    await expect(reader.read()).resolves.toMatchObject({ done: true });
  });
});
