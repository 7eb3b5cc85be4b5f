import { memoryStore } from '@cronkeeper/adapter-memory';
import { manualClock } from '@cronkeeper/core/testing';
import { expect, vi } from 'vitest';
import type { CaseOptions, Harness, Target } from '../support/harness.js';
import { syncJob, waitFor } from '../support/harness.js';
import type { Suite } from './table.js';

/** A promise the test resolves, standing in for a slow session or database lookup. */
function deferred() {
  let release = () => {};
  const promise = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { promise, release };
}

/**
 * A client opens `/events` and leaves while `which` callback is still pending; once it settles, the
 * scheduler must carry no listener of the API's (and so no stream or heartbeat timer either).
 */
async function leaveWhilePending(target: Target, which: 'authorize' | 'tenant' | 'actor') {
  const pending = deferred();
  let asked = false;
  const wait = async () => {
    asked = true;
    await pending.promise;
  };
  const options: CaseOptions = {
    authorize: async (req, action) => {
      if (which === 'authorize' && action === 'events:read') await wait();
      return req.header('x-user') !== undefined;
    },
    tenant: async () => {
      if (which === 'tenant') await wait();
      return null;
    },
    actor: async (req) => {
      if (which === 'actor') await wait();
      return req.header('x-user') ?? null;
    },
  };
  const h = await target.start(options);
  const client = new AbortController();
  const answered = h
    .send('/events', { headers: { 'x-user': 'alice' }, signal: client.signal })
    .catch(() => null);
  await waitFor(() => asked, `${which} called`);
  client.abort();
  // Let the adapter see the client go before the check settles.
  await new Promise((resolve) => setTimeout(resolve, 50));
  pending.release();
  await answered;
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(h.listeners()).toBe(0);
}

/** Make `count` big job:changed events (about 60 kB each), or fewer once `stop()` says so. */
async function flood(h: Harness, count: number, stop: () => boolean): Promise<number> {
  const blob = 'x'.repeat(60_000);
  await h.scheduler.jobs.create({ ...syncJob('big'), metadata: { blob, n: 0 } });
  let sent = 1;
  while (sent < count && !stop()) {
    // One event per turn of the event loop, so a client that reads keeps up.
    await new Promise((resolve) => setImmediate(resolve));
    await h.scheduler.jobs.update('big', { metadata: { blob, n: sent } });
    sent++;
  }
  return sent;
}

/** Users whose access the host has revoked (read by the re-authorization case's `authorize`). */
const revoked = new Set<string>();
/** The tenant the host now places each user in (read by the same case's `tenant`). */
const movedTo = new Map<string, string>();
/** Calls of `authorize` by the user whose re-checks never answer. */
let slowChecks = 0;

export const eventSuite: Suite = {
  name: 'GET /events',
  cases: [
    {
      name: 'refuses a stream another origin opened, a sibling page’s tag without Origin included',
      options: { trustedOrigins: ['https://admin.example.com'] },
      async run(h) {
        const sibling = h.origin.replace('://', '://evil.');
        const status = async (headers: Record<string, string>) => {
          const client = new AbortController();
          const response = await h.send('/events', {
            headers: { 'x-user': 'alice', ...headers },
            signal: client.signal,
          });
          client.abort();
          return response.status;
        };
        const refused: Array<Record<string, string>> = [
          // An <img src=".../events"> on a sibling subdomain: cookies go along, no Origin does.
          { 'sec-fetch-site': 'same-site', 'sec-fetch-dest': 'image', 'sec-fetch-mode': 'no-cors' },
          { 'sec-fetch-site': 'cross-site' },
          { origin: sibling, 'sec-fetch-site': 'same-site' },
          { origin: 'https://attacker.example' },
        ];
        for (const headers of refused) expect(await status(headers), JSON.stringify(headers)).toBe(403);
        const accepted: Array<Record<string, string>> = [
          { 'sec-fetch-site': 'same-origin', 'sec-fetch-dest': 'empty' },
          { origin: 'https://admin.example.com', 'sec-fetch-site': 'cross-site' },
          { 'sec-fetch-site': 'none' },
          {},
        ];
        for (const headers of accepted) expect(await status(headers), JSON.stringify(headers)).toBe(200);
        await waitFor(() => h.listeners() === 0, 'streams closed');
      },
    },
    {
      name: 'closes an open stream whose re-check has not answered an interval later',
      options: {
        events: { reauthorize: 20 },
        // The stream opens; every later check hangs, as a stuck session lookup would.
        authorize: (req) =>
          req.header('x-user') === 'slow' && slowChecks++ > 0 ? new Promise<boolean>(() => {}) : true,
      },
      async run(h) {
        slowChecks = 0;
        const stream = await h.listen({ 'x-user': 'slow' });
        await waitFor(() => h.listeners() === 7, 'listening');
        await waitFor(() => h.listeners() === 0, 'stream with a hanging re-check closed');
        expect(slowChecks).toBeGreaterThan(1);
        await stream.close();
      },
    },
    {
      name: 'closes an open stream once its caller is refused, or is placed in another tenant',
      options: {
        events: { reauthorize: 20 },
        rateLimits: false,
        authorize: (req) => {
          const user = req.header('x-user');
          return user === undefined ? 'unauthenticated' : !revoked.has(user);
        },
        tenant: (req) => movedTo.get(req.header('x-user') ?? '') ?? req.header('x-tenant') ?? null,
      },
      async run(h) {
        revoked.clear();
        movedTo.clear();
        const mallory = await h.listen({ 'x-user': 'mallory', 'x-tenant': 'acme' });
        const moving = await h.listen({ 'x-user': 'trent', 'x-tenant': 'acme' });
        await waitFor(() => h.listeners() === 7, 'listening');
        const created = await h.call('POST', '/jobs', { body: syncJob('a', { tenantId: 'acme' }) });
        expect(created.status, created.text).toBe(201);
        await mallory.until(() => mallory.events.length === 1);
        revoked.add('mallory');
        movedTo.set('trent', 'globex');
        // Both streams close: with none left, the API stops listening to the scheduler.
        await waitFor(() => h.listeners() === 0, 'streams of revoked callers closed');
        const patched = await h.call('PATCH', '/jobs/a?tenantId=acme', {
          body: { description: 'after revocation' },
        });
        expect(patched.status).toBe(200);
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(mallory.events.map((e) => e.data.change)).toEqual(['created']);
        expect(moving.events.map((e) => e.data.change)).toEqual(['created']);
        // Still allowed and the same tenant: the stream stays open across re-checks.
        const alice = await h.listen({ 'x-tenant': 'acme' });
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(
          (await h.call('PATCH', '/jobs/a?tenantId=acme', { body: { description: 'seen' } })).status,
        ).toBe(200);
        await alice.until(() => alice.events.length === 1);
        await Promise.all([mallory.close(), moving.close(), alice.close()]);
      },
    },
    {
      name: 'streams run and job changes as named server-sent events, with heartbeats',
      options: { events: { heartbeat: 50 }, rateLimits: false },
      async run(h) {
        const stream = await h.listen();
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
      },
    },
    {
      name: 'filters by tenant: a tenant sees its runs and visible jobs only',
      options: { rateLimits: false },
      async run(h) {
        const acme = await h.listen({ 'x-tenant': 'acme' });
        await h.call('POST', '/jobs', { body: syncJob('globex-job', { tenantId: 'globex' }) });
        await h.call('POST', '/jobs/globex-job/trigger', { tenant: 'globex' });
        await h.call('POST', '/jobs', { body: syncJob('acme-job', { tenantId: 'acme' }) });
        await h.call('POST', '/jobs/acme-job/trigger', { tenant: 'acme' });
        await acme.until(() => acme.events.some((e) => e.event === 'run:created'));
        expect(acme.events.map((e) => e.data.name ?? e.data.run.jobName)).toEqual(['acme-job', 'acme-job']);
        await acme.close();
      },
    },
    {
      name: 'removes its listeners when the client goes away',
      async run(h) {
        const stream = await h.listen();
        await waitFor(() => h.listeners() === 7, 'listening');
        await stream.close();
        await waitFor(() => h.listeners() === 0, 'listeners removed');
      },
    },
    {
      name: 'delivers runs created by another instance sharing the store',
      async run(_h, target) {
        const store = memoryStore();
        const clock = manualClock('2026-03-29T10:00:00Z');
        const here = await target.start({}, { store, clock, start: true });
        const elsewhere = await target.start({}, { store, clock });
        const stream = await here.listen();
        await elsewhere.scheduler.jobs.create(syncJob('remote'));
        const run = await elsewhere.scheduler.trigger({ job: 'remote', triggeredBy: 'other-instance' });
        await stream.until(() =>
          stream.events.some((e) => e.event === 'run:created' && e.data.run.id === run.id),
        );
        const created = stream.events.find((e) => e.event === 'run:created');
        expect(created?.data.origin).toBe(elsewhere.scheduler.instanceId);
        await stream.close();
      },
    },
    {
      name: 'drops a client that stops reading once its buffer is full, instead of buffering without bound',
      options: { events: { maxBuffered: '64kb' } },
      timeout: 60_000,
      async run(h) {
        const stalled = await h.stall('/events', { 'x-user': 'alice' });
        await waitFor(() => h.listeners() === 7, 'listening');
        // 1000 events of 60 kB (60 MB) is far more than socket buffers hold; the stream is
        // dropped once 64 kB wait unread in its own queue.
        const sent = await flood(h, 1000, () => h.listeners() === 0);
        expect(sent).toBeLessThan(1000);
        expect(h.listeners()).toBe(0);
        const { bytes, ended } = await stalled.drain();
        expect(ended).not.toBe('timeout');
        // What reaches the client is what the network held plus at most one full queue.
        if (h.target === 'fetch') expect(bytes).toBeLessThan(64 * 1024 + 61_000 + 100);
        console.log(
          `[${h.target}] stalled client dropped after ${sent} events of 60 kB; it then received ${bytes} bytes`,
        );
      },
    },
    {
      name: 'serialises each event once, however many streams receive it',
      async run(h) {
        const streams = await Promise.all(
          ['u1', 'u2', 'u3', 'u4', 'u5'].map((user) => h.listen({ 'x-user': user })),
        );
        await h.call('POST', '/jobs', { body: syncJob('a') });
        const stringify = vi.spyOn(JSON, 'stringify');
        try {
          const run = await h.scheduler.trigger({ job: 'a' });
          for (const stream of streams)
            await stream.until(() => stream.events.some((e) => e.event === 'run:created'));
          const serialised = stringify.mock.calls.filter(([value]) => {
            const payload = value as { run?: { id?: string }; origin?: string } | null;
            return typeof payload === 'object' && payload?.run?.id === run.id && 'origin' in payload;
          });
          expect(serialised).toHaveLength(1);
        } finally {
          stringify.mockRestore();
        }
        for (const stream of streams) await stream.close();
      },
    },
    {
      name: 'caps open streams per caller and in all (429), and frees a slot when a stream closes',
      options: { events: { maxStreamsPerCaller: 2, maxStreams: 3 } },
      async run(h) {
        const a1 = await h.listen({ 'x-user': 'ann' });
        const a2 = await h.listen({ 'x-user': 'ann' });
        const refused = await h.call('GET', '/events', { user: 'ann' });
        expect(refused.status).toBe(429);
        expect(refused.json.error.code).toBe('RATE_LIMITED');
        expect(refused.headers.get('retry-after')).toBeTruthy();
        const b1 = await h.listen({ 'x-user': 'bob' });
        expect(b1.response.status).toBe(200);
        expect((await h.call('GET', '/events', { user: 'carl' })).status).toBe(429);
        await a1.close();
        await waitFor(() => h.listeners() === 7, 'still listening for the others');
        const c1 = await h.listen({ 'x-user': 'carl' });
        expect(c1.response.status).toBe(200);
        for (const stream of [a2, b1, c1]) await stream.close();
        await waitFor(() => h.listeners() === 0, 'listeners removed');
      },
    },
    {
      name: 'caps open streams per tenant across its actors (429), leaving other tenants and operators their slots',
      options: { events: { maxStreamsPerCaller: 2, maxStreamsPerTenant: 3, maxStreams: 100 } },
      async run(h) {
        const acme = [];
        for (const user of ['u1', 'u2', 'u3'])
          acme.push(await h.listen({ 'x-user': user, 'x-tenant': 'acme' }));
        const refused = await h.call('GET', '/events', { user: 'u4', tenant: 'acme' });
        expect(refused.status).toBe(429);
        expect(refused.json.error.message).toMatch(/tenant already has 3 event streams/);
        expect(refused.headers.get('retry-after')).toBeTruthy();
        const other = await h.listen({ 'x-user': 'u1', 'x-tenant': 'globex' });
        const operator = await h.listen({ 'x-user': 'root' });
        expect([other.response.status, operator.response.status]).toEqual([200, 200]);
        await acme[0]?.close();
        await waitFor(() => h.listeners() === 7, 'still listening for the others');
        const again = await h.listen({ 'x-user': 'u4', 'x-tenant': 'acme' });
        expect(again.response.status).toBe(200);
        acme.push(again);
        for (const stream of [...acme.slice(1), other, operator]) await stream.close();
        await waitFor(() => h.listeners() === 0, 'listeners removed');
      },
    },
    ...(['authorize', 'tenant', 'actor'] as const).map((which) => ({
      name: `leaves no listener when the client goes away while ${which} is pending`,
      async run(_h: Harness, target: Target) {
        await leaveWhilePending(target, which);
      },
    })),
  ],
};
