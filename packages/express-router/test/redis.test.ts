import { randomUUID } from 'node:crypto';
import { redisStore } from '@cronkeeper/adapter-redis';
import { manualClock } from '@cronkeeper/core/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, syncJob } from '../../http/test/support/harness.js';
import { expressTarget } from './support/express-target.js';

// Two app instances on one real Redis: limits and "already running" hold across them, and each
// instance's event stream carries the other's runs. Runs when Redis answers (required when
// CRONKEEPER_REDIS_URL is set).
const REDIS_URL = process.env.CRONKEEPER_REDIS_URL ?? 'redis://127.0.0.1:6379';

// Probed once per test run by test/services.setup.ts, which announces a skip in one line.
const enabled = process.env.CRONKEEPER_REDIS_AVAILABLE !== '0';
const prefix = `{ck-express-${randomUUID().slice(0, 8)}}`;
const clients: Redis[] = [];
let one: Harness;
let two: Harness;

describe.runIf(enabled)('two instances on Redis', () => {
  beforeAll(async () => {
    const clock = manualClock('2026-03-29T10:00:00Z');
    const store = () => {
      const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
      clients.push(client);
      return redisStore({ redis: client, prefix });
    };
    one = await expressTarget.start({}, { store: store(), clock });
    two = await expressTarget.start({}, { store: store(), clock, start: true });
  });
  afterAll(async () => {
    await expressTarget.closeAll();
    await one?.store.close();
    await two?.store.close();
    const [cleaner] = clients;
    if (cleaner) {
      let cursor = '0';
      do {
        const [next, keys] = await cleaner.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        if (keys.length > 0) await cleaner.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
    await Promise.all(clients.map((client) => client.quit()));
  });

  it('streams a run triggered through the other instance, then refuses a second trigger on either', async () => {
    const controller = new AbortController();
    const stream = await two.send('/events', { headers: { 'x-user': 'alice' }, signal: controller.signal });
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    await one.call('POST', '/jobs', { body: { ...syncJob('shared'), overlap: 'skip' } });
    const run = await one.call('POST', '/jobs/shared/trigger');
    expect(run.status).toBe(202);
    let text = '';
    const decoder = new TextDecoder();
    while (!text.includes(run.json.data.id)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    controller.abort();
    expect(text).toMatch(/event: run:(created|started|succeeded)/);
    expect(text).toContain(run.json.data.id);
    // Through the other instance: 409 while the run is pending or running, else 429 (shared count).
    const again = await two.call('POST', '/jobs/shared/trigger');
    expect([409, 429]).toContain(again.status);
    // Instance two (started) executes the run; once it ended, only the shared count is in the way.
    for (
      let i = 0;
      i < 300 && ['pending', 'running'].includes((await one.scheduler.runs.get(run.json.data.id)).status);
      i++
    )
      await new Promise((resolve) => setTimeout(resolve, 20));
    const later = await two.call('POST', '/jobs/shared/trigger');
    expect(later.status).toBe(429);
    expect(later.headers.get('retry-after')).toBe('30');
  });
});
