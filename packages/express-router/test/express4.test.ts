import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Harness, syncJob } from '../../http/test/support/harness.js';
import { expressTarget } from './support/express-target.js';

// The router's peer range starts at Express 4.18: the host app and the router both get Express 4
// here, as they would in an app that has not moved to 5.
vi.mock('express', async () => import('express4'));

describe('mounted in an Express 4 app', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await expressTarget.start();
  });
  afterAll(() => expressTarget.closeAll());

  it('runs on Express 4 itself', async () => {
    // The test's host app and src/router.ts import this same specifier.
    const mounted = await import('express');
    const express4 = await import('express4');
    expect(mounted.default).toBe(express4.default);
    const { version } = (await import('express4/package.json', { with: { type: 'json' } })).default;
    expect(version).toMatch(/^4\./);
  });

  it('creates, lists and triggers a job, answering JSON', async () => {
    expect((await h.call('POST', '/jobs', { body: syncJob('nightly') })).status).toBe(201);
    const list = await h.call('GET', '/jobs');
    expect(list.json.data.map((job: { name: string }) => job.name)).toContain('nightly');
    const trigger = await h.call('POST', '/jobs/nightly/trigger', { body: {} });
    expect(trigger.status).toBe(202);
    expect(trigger.json.data).toMatchObject({ jobName: 'nightly', trigger: 'manual', triggeredBy: 'alice' });
  });

  it('answers bad input with the JSON error envelope, never a 5xx', async () => {
    const badJson = await h.call('POST', '/jobs', { raw: '{"name": ' });
    expect(badJson.status).toBe(400);
    expect(badJson.json.error.code).toBeTypeOf('string');
    const badCron = await h.call('POST', '/jobs', {
      body: syncJob('bad', { schedule: 'every tuesday-ish' }),
    });
    expect(badCron.status).toBe(400);
    expect(JSON.stringify(badCron.json.error)).toContain('schedule');
    expect((await h.call('GET', '/runs/not-a-run')).status).toBe(404);
    expect((await h.call('GET', '/jobs', { user: null })).status).toBe(401);
  });
});
