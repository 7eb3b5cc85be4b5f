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
      const inside = await handle(new Request('http://localhost/api/cron/executors'));
      expect(inside.status).toBe(200);
      expect((await inside.json()).data.map((e: { name: string }) => e.name)).toContain('noop');
      for (const outside of ['/api/cronx/executors', '/api/executors', '/executors']) {
        const answer = await handle(new Request(`http://localhost${outside}`));
        expect(answer.status, outside).toBe(404);
        expect((await answer.json()).error.code).toBe('NOT_FOUND');
      }
    }
  });

  it('without basePath, serves the API at the root of the URL it is given', async () => {
    const handle = createCronHandler(scheduler, { authorize: allowAll });
    expect((await handle(new Request('http://localhost/executors'))).status).toBe(200);
    expect((await handle(new Request('http://localhost/api/cron/executors'))).status).toBe(404);
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

describe('createCronHandler: allowedHosts (DNS rebinding)', () => {
  // A rebinding page on attacker.example calls the API as its own origin: Host and Origin agree.
  const rebound = (host: string) =>
    new Request(`http://${host}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: `http://${host}` },
      body: JSON.stringify({ name: 'planted', schedule: 'daily', executor: 'noop' }),
    });

  it('with allowAll, answers only for addresses and names no attacker can own', async () => {
    const handle = createCronHandler(scheduler, { authorize: allowAll });
    const refused = await handle(rebound('rebind.attacker.example:8080'));
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.message).toMatch(
      /host "rebind\.attacker\.example": list it in allowedHosts/,
    );
    expect((await handle(new Request('http://rebind.attacker.example/jobs'))).status).toBe(403);
    await expect(scheduler.jobs.get('planted')).rejects.toThrow(/not found/i);
    for (const host of [
      'localhost:3000',
      '127.0.0.1:3000',
      '[::1]:3000',
      'cron.localhost',
      'scheduler:3000',
      '10.0.0.7',
    ]) {
      expect((await handle(new Request(`http://${host}/executors`))).status, host).toBe(200);
    }
    // The Host header counts as well as the URL: a proxy may keep the URL and pass the header on.
    const spoofed = new Request('http://localhost/executors', { headers: { host: 'evil.example' } });
    expect((await handle(spoofed)).status).toBe(403);
    // Behind a proxy that sets Host to the upstream and passes the browser's host on.
    const forwarded = new Request('http://127.0.0.1:3000/jobs', {
      method: 'POST',
      headers: {
        host: '127.0.0.1:3000',
        'x-forwarded-host': 'rebind.attacker.example',
        origin: 'http://rebind.attacker.example',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ name: 'planted', schedule: 'daily', executor: 'noop' }),
    });
    expect((await handle(forwarded)).status).toBe(403);
    await expect(scheduler.jobs.get('planted')).rejects.toThrow(/not found/i);
    // A Host header that names no host is no local name, whatever characters it holds.
    for (const host of ['evil.example:abc', 'evil.example:99999', 'user@evil.example', '']) {
      const request = new Request('http://localhost/executors', { headers: { host } });
      expect((await handle(request)).status, JSON.stringify(host)).toBe(403);
    }
    expect((await handle(new Request('http://localhost./executors'))).status).toBe(200);
  });

  it('answers for the hosts listed, subdomains with a leading dot, or any with true', async () => {
    const listed = createCronHandler(scheduler, {
      authorize: allowAll,
      allowedHosts: ['admin.example.com', '.corp.example'],
    });
    for (const host of ['admin.example.com', 'corp.example', 'cron.corp.example'])
      expect((await listed(new Request(`http://${host}/executors`))).status, host).toBe(200);
    for (const host of ['other.example.com', 'localhost', 'corp.example.evil.test'])
      expect((await listed(new Request(`http://${host}/executors`))).status, host).toBe(403);
    // A port or a scheme would never match a host name: refused when the handler is built.
    for (const name of ['localhost:3000', 'https://admin.example.com', 'admin.example.com/'])
      expect(() => createCronHandler(scheduler, { authorize: allowAll, allowedHosts: [name] }), name).toThrow(
        /allowedHosts\.0: must be a host name/,
      );
    const any = createCronHandler(scheduler, { authorize: allowAll, allowedHosts: true });
    expect((await any(new Request('http://anything.example/executors'))).status).toBe(200);
  });

  it('with an authorize of its own, answers for any host unless allowedHosts is given', async () => {
    const handle = createCronHandler(scheduler, { authorize: () => true });
    expect((await handle(new Request('http://cron.example.com/executors'))).status).toBe(200);
  });
});
