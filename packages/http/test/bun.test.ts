import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The handler on Bun: `Bun.serve({ fetch: createCronHandler(…) })` in a Bun process (the `bun`
// package installs its binary from the npm registry), called over HTTP from here.
const here = dirname(fileURLToPath(import.meta.url));
const bunBin = join(dirname(createRequire(import.meta.url).resolve('bun/package.json')), 'bin', 'bun.exe');
const enabled = existsSync(bunBin);

let child: ChildProcess;
let api = '';

describe.skipIf(!enabled)('on Bun', () => {
  beforeAll(async () => {
    child = spawn(bunBin, ['--conditions=@cronkeeper/source', join(here, 'bun', 'serve.ts')], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, BUN_RUNTIME_TRANSPILER_CACHE_PATH: '0' },
    });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0] as string);
      });
      child.once('exit', (code) => reject(new Error(`bun exited with ${code} before listening`)));
    });
    const { port, runtime } = JSON.parse(line) as { port: number; runtime: string };
    expect(runtime).toMatch(/^bun \d/);
    api = `http://127.0.0.1:${port}/api/cron`;
  }, 60_000);

  afterAll(async () => {
    if (!child) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.stdin?.end();
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
    child.kill();
  });

  const json = { 'content-type': 'application/json', 'x-user': 'bun-test' };

  it('creates and triggers a job, runs it, and streams its events', async () => {
    const events = new AbortController();
    const stream = await fetch(`${api}/events`, { signal: events.signal });
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const created = await fetch(`${api}/jobs`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ name: 'ping', schedule: 'every_5_minutes', executor: 'ping' }),
    });
    expect(created.status).toBe(201);
    const trigger = await fetch(`${api}/jobs/ping/trigger`, { method: 'POST', headers: json });
    expect(trigger.status).toBe(202);
    const run = (await trigger.json()).data;
    expect(run).toMatchObject({ status: 'pending', triggeredBy: 'bun-test' });
    const due = await fetch(`${api}/run-due`, { method: 'POST', headers: json });
    expect((await due.json()).data.summary).toMatchObject({ executed: 1, failed: 0 });
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('event: run:succeeded')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    events.abort();
    expect(text).toContain(run.id);
    expect((await (await fetch(`${api}/runs/${run.id}`)).json()).data.result).toBe('pong');
  });

  it('answers errors, CSRF refusals, the OpenAPI document and the dashboard as on Node', async () => {
    expect((await fetch(`${api}/jobs/ghost`)).status).toBe(404);
    const form = await fetch(`${api}/run-due`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'limit=1',
    });
    expect(form.status).toBe(415);
    const crossSite = await fetch(`${api}/run-due`, {
      method: 'POST',
      headers: { ...json, origin: 'https://attacker.example', 'sec-fetch-site': 'cross-site' },
    });
    expect(crossSite.status).toBe(403);
    const badJson = await fetch(`${api}/jobs`, { method: 'POST', headers: json, body: '{oops' });
    expect(badJson.status).toBe(400);
    expect(badJson.headers.get('x-content-type-options')).toBe('nosniff');
    const doc = await (await fetch(`${api}/openapi.json`)).json();
    expect(doc.openapi).toBe('3.1.0');
    const page = await fetch(`${api}/`);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const head = await fetch(`${api}/events`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });
});
