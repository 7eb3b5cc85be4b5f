import { memoryStore } from '@cronkeeper/adapter-memory';
import { createScheduler, manualClock } from '@cronkeeper/core';
import { describe, expect, it } from 'vitest';
import { allowAll, createCronHandler } from '../src/index.js';

describe('a "__proto__" key in params and metadata sent over HTTP', () => {
  // Core keeps the key as data; the API must hand it over as the body carried it.
  it('is stored and read back like any other key', async () => {
    const clock = manualClock('2026-03-01T00:00:00Z');
    const scheduler = createScheduler({
      store: memoryStore(),
      clock,
      logger: false,
      maintenanceJobs: false,
      executors: { echo: { run: () => null } },
    });
    const handle = createCronHandler(scheduler, { authorize: allowAll, clock, rateLimits: false });
    const send = async (method: string, path: string, body: string) => {
      const response = await handle(
        new Request(`http://localhost${path}`, {
          method,
          headers: { 'content-type': 'application/json' },
          body,
        }),
      );
      return { status: response.status, json: await response.json() };
    };
    const object = '{"__proto__":{"polluted":true},"constructor":{"prototype":1},"plain":1}';
    // As text: the key is data, so it shows in JSON (matchers read `__proto__` as the prototype).
    const same = (value: unknown, text = object) => expect(JSON.stringify(value)).toBe(text);

    const created = await send(
      'POST',
      '/jobs',
      `{"name":"a","schedule":"daily","tasks":[{"executor":"echo","params":${object}}],"params":${object},"metadata":${object}}`,
    );
    expect(created.status).toBe(201);
    const job = await scheduler.jobs.get('a');
    same(job.params);
    same(job.metadata);
    same(job.tasks[0]?.params);

    const triggered = await send('POST', '/jobs/a/trigger', `{"params":${object}}`);
    expect(triggered.status).toBe(202);
    same((await scheduler.runs.get(triggered.json.data.id)).params);

    const patched = await send('PATCH', '/jobs/a', `{"params":{"__proto__":{"changed":true}}}`);
    expect(patched.status).toBe(200);
    same((await scheduler.jobs.get('a')).params, '{"__proto__":{"changed":true}}');
  });
});
