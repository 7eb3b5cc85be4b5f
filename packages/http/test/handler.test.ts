import { memoryStore } from '@cronkeeper/adapter-memory';
import { createScheduler, defineExecutor, ValidationError } from '@cronkeeper/core';
import { describe, expect, it } from 'vitest';
import { allowAll, type CronHandlerOptions, createCronHandler } from '../src/index.js';

const scheduler = createScheduler({
  store: memoryStore(),
  logger: false,
  executors: { noop: defineExecutor({ run: () => null }) },
});

describe('createCronHandler: construction', () => {
  it('requires authorize, with a message that says how to run open', () => {
    expect(() => createCronHandler(scheduler, {} as CronHandlerOptions)).toThrow(/authorize.*allowAll/);
  });

  it('rejects options of the wrong kind, naming them', () => {
    expect(() => createCronHandler(scheduler, { authorize: allowAll, tenant: 'acme' } as never)).toThrow(
      /tenant/,
    );
    expect(() =>
      createCronHandler(scheduler, {
        authorize: allowAll,
        rateLimits: { perJob: { limit: 0, window: '1s' } },
      }),
    ).toThrow(/rateLimits\.perJob/);
    expect(() => createCronHandler(scheduler, { authorize: allowAll, basePath: 'api/cron' })).toThrow(
      /basePath/,
    );
    expect(() => createCronHandler(scheduler, { authorize: allowAll, basePath: 'https://x/api' })).toThrow(
      /basePath/,
    );
    expect(() => createCronHandler(scheduler, { authorize: allowAll, trustedOrigins: ['evil'] })).toThrow(
      /trustedOrigins\.0/,
    );
    expect(() => createCronHandler({} as never, { authorize: allowAll })).toThrow(/createScheduler/);
  });

  it('names an unknown option with the ones it takes, as createScheduler and the stores do', () => {
    const refused = (options: object) => {
      try {
        createCronHandler(scheduler, { authorize: allowAll, ...options } as CronHandlerOptions);
      } catch (error) {
        return error as ValidationError;
      }
      throw new Error('accepted');
    };
    const error = refused({ dashbord: true });
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.issues).toEqual([
      {
        path: 'dashbord',
        message: expect.stringMatching(
          /^is not an option of createCronHandler \(known: authorize, tenant, .*basePath\)$/,
        ),
      },
    ]);
    expect(refused({ events: { heartbeet: '5s' } }).issues).toEqual([
      { path: 'events.heartbeet', message: 'is not an option' },
    ]);
  });
});

describe('createCronHandler: basePath', () => {
  it('routes under basePath, with or without a trailing slash on it, and 404s anything outside', async () => {
    for (const basePath of ['/api/cron', '/api/cron/']) {
      const handle = createCronHandler(scheduler, { authorize: allowAll, basePath });
      const inside = await handle(new Request('http://app.test/api/cron/executors'));
      expect(inside.status).toBe(200);
      expect((await inside.json()).data.map((e: { name: string }) => e.name)).toContain('noop');
      for (const outside of ['/api/cronx/executors', '/api/executors', '/executors']) {
        const answer = await handle(new Request(`http://app.test${outside}`));
        expect(answer.status, outside).toBe(404);
        expect((await answer.json()).error.code).toBe('NOT_FOUND');
      }
    }
  });

  it('without basePath, serves the API at the root of the URL it is given', async () => {
    const handle = createCronHandler(scheduler, { authorize: allowAll });
    expect((await handle(new Request('http://app.test/executors'))).status).toBe(200);
    expect((await handle(new Request('http://app.test/api/cron/executors'))).status).toBe(404);
  });

  it('hands authorize, tenant and actor the Request itself', async () => {
    const seen: unknown[] = [];
    const handle = createCronHandler(scheduler, {
      authorize: (request, action) => {
        seen.push(request, action);
        return true;
      },
      tenant: (request) => {
        seen.push(request);
        return null;
      },
    });
    const request = new Request('http://app.test/jobs');
    await handle(request);
    expect(seen).toEqual([request, 'jobs:read', request]);
  });
});
