import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { memoryStore } from '@cronkeeper/adapter-memory';
import { createScheduler, defineExecutor, type Scheduler } from '@cronkeeper/core';
import express from 'express';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cronRouter } from '../src/index.js';
import { CHROMIUM } from './dashboard.harness.js';

// The CSRF attack as a browser makes it: an admin signed in to the API with a SameSite=Strict
// session cookie visits a page on another origin of the same site (a sibling subdomain), which
// posts forms and no-cors fetches at the API. SameSite does not stop those (same site), so the
// cookie goes along; the API must refuse them all and change nothing.
const enabled = process.env.CRONKEEPER_BROWSER_AVAILABLE !== '0';

const API_HOST = 'cron.example.com';
const EVIL_HOST = 'evil.example.com';

interface Seen {
  method: string;
  path: string;
  origin: string | undefined;
  site: string | undefined;
  cookie: boolean;
  status: number;
}

function listen(app: express.Express): Promise<Server> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** The page on the sibling origin: every request shape a browser sends cross-origin without a preflight. */
function attackPage(api: string): string {
  const form = (id: string, path: string, enctype: string, field: string) =>
    `<iframe name="f${id}"></iframe><form id="${id}" method="post" target="f${id}" action="${api}${path}" enctype="${enctype}"><input name="${field}" value="x"></form>`;
  return `<!doctype html><html><body>
${form('plain', '/jobs/nightly/trigger', 'text/plain', '{"force":true,"x":"')}
${form('urlencoded', '/run-due', 'application/x-www-form-urlencoded', 'limit')}
${form('multipart', '/jobs/nightly/pause', 'multipart/form-data', 'note')}
<script>
  window.done = (async () => {
    const loads = [...document.querySelectorAll('iframe')].map((frame) => new Promise((r) => frame.addEventListener('load', r, { once: true })));
    for (const form of document.querySelectorAll('form')) form.submit();
    const shots = [
      fetch('${api}/jobs/nightly/trigger', { method: 'POST', mode: 'no-cors', credentials: 'include' }),
      fetch('${api}/maintenance/prune', { method: 'POST', mode: 'no-cors', credentials: 'include', body: '{"olderThan":0}' }),
      fetch('${api}/jobs', { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: '{"name":"planted","schedule":"daily","executor":"work"}' }),
      // Needs a CORS preflight, which the API does not grant: the browser never sends it.
      fetch('${api}/jobs/nightly/trigger', { method: 'POST', mode: 'cors', credentials: 'include', headers: { 'content-type': 'application/json' }, body: '{}' }),
    ].map((shot) => shot.then(() => 'sent', () => 'blocked'));
    await Promise.all(loads);
    return Promise.all(shots);
  })();
</script></body></html>`;
}

describe.skipIf(!enabled)('CSRF from a sibling origin, in Chromium', () => {
  let scheduler: Scheduler;
  let api: Server;
  let evil: Server;
  let browser: Browser;
  const seen: Seen[] = [];

  beforeAll(async () => {
    scheduler = createScheduler({
      store: memoryStore(),
      logger: false,
      executors: { work: defineExecutor({ run: () => 'done' }) },
    });
    await scheduler.jobs.create({ name: 'nightly', schedule: '0 3 * * *', executor: 'work' });
    const app = express();
    app.use((req, res, next) => {
      const path = req.path;
      res.on('finish', () => {
        if (path.startsWith('/api/cron'))
          seen.push({
            method: req.method,
            path,
            origin: req.get('origin'),
            site: req.get('sec-fetch-site'),
            cookie: /session=admin/.test(req.get('cookie') ?? ''),
            status: res.statusCode,
          });
      });
      next();
    });
    app.get('/login', (_req, res) => {
      res.setHeader('Set-Cookie', 'session=admin; Path=/; HttpOnly; SameSite=Strict');
      res.type('html').send('<!doctype html><p>signed in</p>');
    });
    app.use(
      '/api/cron',
      cronRouter(scheduler, {
        authorize: (req) => (/session=admin/.test(req.get('cookie') ?? '') ? true : 'unauthenticated'),
        actor: () => 'admin',
        rateLimits: false,
      }),
    );
    api = await listen(app);
    const apiBase = `http://${API_HOST}:${(api.address() as AddressInfo).port}/api/cron`;
    const attacker = express();
    attacker.get('/attack.html', (_req, res) => {
      res.type('html').send(attackPage(apiBase));
    });
    evil = await listen(attacker);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        // Both names are the loopback here, and they share the site example.com.
        `--host-resolver-rules=MAP ${API_HOST} 127.0.0.1, MAP ${EVIL_HOST} 127.0.0.1`,
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    for (const server of [api, evil]) {
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
    }
    await scheduler?.stop({ grace: '1s' });
  });

  it('refuses every form and no-cors request though the session cookie came with it, and changes nothing', async () => {
    const page = await (await browser.newContext()).newPage();
    const apiOrigin = `http://${API_HOST}:${(api.address() as AddressInfo).port}`;
    await page.goto(`${apiOrigin}/login`);
    // The signed-in admin can act from the API's own origin: the session works.
    const own = await page.evaluate(async () => {
      const answer = await fetch('/api/cron/jobs/nightly/trigger', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      return answer.status;
    });
    expect(own).toBe(202);
    const before = JSON.stringify({
      jobs: await scheduler.jobs.list({}),
      runs: (await scheduler.runs.list({ limit: 100 })).items,
    });
    seen.length = 0;

    await page.goto(`http://${EVIL_HOST}:${(evil.address() as AddressInfo).port}/attack.html`);
    const shots = await page.evaluate(() => (window as unknown as { done: Promise<string[]> }).done);
    expect(shots[3]).toBe('blocked');
    const attempts = () => seen.filter((request) => request.method !== 'OPTIONS');
    // Three forms and three no-cors fetches; the fourth fetch stopped at its preflight.
    await expect.poll(() => attempts().length).toBe(6);
    expect(seen.filter((request) => request.method === 'OPTIONS').every((r) => r.status >= 400)).toBe(true);
    // Every attempt reached the API with the victim's cookie, from the sibling origin…
    expect(attempts().every((request) => request.cookie && request.origin?.includes(EVIL_HOST))).toBe(true);
    // Over plain HTTP the browser sends no Sec-Fetch-Site (secure contexts only): Origin is what tells.
    expect(attempts().every((request) => request.site === undefined)).toBe(true);
    // …and was refused as cross-origin (403) before its content type was even looked at.
    expect(attempts().map((request) => request.status)).toEqual(attempts().map(() => 403));
    expect(
      JSON.stringify({
        jobs: await scheduler.jobs.list({}),
        runs: (await scheduler.runs.list({ limit: 100 })).items,
      }),
    ).toBe(before);
  });
});
