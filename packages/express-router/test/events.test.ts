import { memoryStore } from '@cronkeeper/adapter-memory';
import { manualClock } from '@cronkeeper/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness, syncJob } from './helpers.js';

let harnesses: Harness[] = [];
afterEach(async () => {
  await Promise.all(harnesses.map((h) => h.close()));
  harnesses = [];
});
async function start(...args: Parameters<typeof startHarness>) {
  const h = await startHarness(...args);
  harnesses.push(h);
  return h;
}

/** An open `GET /events` stream that collects events and comment lines. */
async function listen(h: Harness, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const response = await fetch(`${h.base}/events`, {
    headers: { 'x-user': 'alice', ...headers },
    signal: controller.signal,
  });
  // biome-ignore lint/suspicious/noExplicitAny: event payloads are read as plain JSON
  const events: Array<{ event: string; data: any }> = [];
  const comments: string[] = [];
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const pump = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = block.split('\n');
          for (const line of lines) if (line.startsWith(':')) comments.push(line);
          const name = lines.find((line) => line.startsWith('event: '))?.slice(7);
          const data = lines.find((line) => line.startsWith('data: '))?.slice(6);
          if (name && data) events.push({ event: name, data: JSON.parse(data) });
          end = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // aborted by the test
    }
  })();
  const until = async (check: () => boolean) => {
    for (let i = 0; i < 300 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    if (!check()) throw new Error(`not seen; events: ${events.map((e) => e.event).join(', ')}`);
  };
  return {
    response,
    events,
    comments,
    until,
    close: async () => {
      controller.abort();
      await pump;
    },
  };
}

describe('GET /events', () => {
  it('streams run and job changes as named server-sent events, with heartbeats', async () => {
    const h = await start({ events: { heartbeat: 50 }, rateLimits: false });
    const stream = await listen(h);
    expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await h.call('POST', '/jobs', { body: syncJob('a') });
    await h.call('POST', '/jobs/a/trigger');
    await h.call('POST', '/run-due');
    await stream.until(() => stream.events.some((e) => e.event === 'run:succeeded'));
    expect(stream.events.map((e) => e.event)).toEqual([
      'job:changed',
      'run:created',
      'run:started',
      'run:succeeded',
    ]);
    expect(stream.events[0]?.data).toMatchObject({ change: 'created', name: 'a' });
    expect(stream.events[3]?.data.run).toMatchObject({ jobName: 'a', status: 'succeeded' });
    await stream.until(() => stream.comments.some((line) => line.startsWith(': heartbeat')));
    await stream.close();
  });

  it('filters by tenant: a tenant sees its runs and visible jobs only', async () => {
    const h = await start({ rateLimits: false });
    const acme = await listen(h, { 'x-tenant': 'acme' });
    await h.call('POST', '/jobs', { body: syncJob('globex-job', { tenantId: 'globex' }) });
    await h.call('POST', '/jobs/globex-job/trigger', { tenant: 'globex' });
    await h.call('POST', '/jobs', { body: syncJob('acme-job', { tenantId: 'acme' }) });
    await h.call('POST', '/jobs/acme-job/trigger', { tenant: 'acme' });
    await acme.until(() => acme.events.some((e) => e.event === 'run:created'));
    expect(acme.events.map((e) => e.data.name ?? e.data.run.jobName)).toEqual(['acme-job', 'acme-job']);
    await acme.close();
  });

  it('removes its listeners when the client goes away', async () => {
    const h = await start();
    const active = trackListeners(h);
    const stream = await listen(h);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(active()).toBe(7);
    await stream.close();
    for (let i = 0; i < 100 && active() !== 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(active()).toBe(0);
  });

  it('delivers runs created by another instance sharing the store', async () => {
    const store = memoryStore();
    const clock = manualClock('2026-03-29T10:00:00Z');
    const here = await start({}, { store, clock, start: true });
    const elsewhere = await start({}, { store, clock });
    const stream = await listen(here);
    await elsewhere.scheduler.jobs.create(syncJob('remote'));
    const run = await elsewhere.scheduler.trigger({ job: 'remote', triggeredBy: 'other-instance' });
    await stream.until(() =>
      stream.events.some((e) => e.event === 'run:created' && e.data.run.id === run.id),
    );
    const created = stream.events.find((e) => e.event === 'run:created');
    expect(created?.data.origin).toBe(elsewhere.scheduler.instanceId);
    await stream.close();
  });
});

/** Counts listeners the router adds and removes, by wrapping the scheduler's `on`/`off`. */
function trackListeners(h: Harness): () => number {
  let active = 0;
  const on = h.scheduler.on.bind(h.scheduler);
  const off = h.scheduler.off.bind(h.scheduler);
  h.scheduler.on = ((event, listener) => {
    active++;
    return on(event, listener);
  }) as typeof h.scheduler.on;
  h.scheduler.off = ((event, listener) => {
    active--;
    return off(event, listener);
  }) as typeof h.scheduler.off;
  return () => active;
}
