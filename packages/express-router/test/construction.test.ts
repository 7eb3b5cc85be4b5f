import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { memoryStore } from '@cronkeeper/adapter-memory';
import { createScheduler, defineExecutor, ValidationError } from '@cronkeeper/core';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { allowAll, type CronRouterOptions, cronRouter } from '../src/index.js';

describe('construction', () => {
  const scheduler = createScheduler({ store: memoryStore(), logger: false });

  it('requires authorize, with a message that says how to run open', () => {
    expect(() => cronRouter(scheduler, {} as CronRouterOptions)).toThrow(/authorize.*allowAll/);
  });

  it('rejects options of the wrong kind, naming them', () => {
    expect(() => cronRouter(scheduler, { authorize: allowAll, tenant: 'acme' } as never)).toThrow(/tenant/);
    expect(() =>
      cronRouter(scheduler, { authorize: allowAll, rateLimits: { perJob: { limit: 0, window: '1s' } } }),
    ).toThrow(/rateLimits\.perJob/);
    expect(() => cronRouter(scheduler, { authorize: allowAll, dashbord: true } as never)).toThrow(/dashbord/);
    expect(() => cronRouter({} as never, { authorize: allowAll })).toThrow(/createScheduler/);
  });

  it('names an unknown option with the ones it takes, and says Express takes the mount path', () => {
    const refused = (options: object) => {
      try {
        cronRouter(scheduler, { authorize: allowAll, ...options } as CronRouterOptions);
      } catch (error) {
        return error as ValidationError;
      }
      throw new Error('accepted');
    };
    const error = refused({ dashbord: true });
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toMatch(
      /^dashbord: is not an option of cronRouter \(known: authorize, tenant, .*clock\)$/,
    );
    expect(error.message).not.toContain('basePath');
    expect(refused({ basePath: '/api/cron' }).issues).toEqual([
      {
        path: 'basePath',
        message:
          "is not an option of cronRouter: Express takes the mount path, as in app.use('/api/cron', cronRouter(scheduler, options))",
      },
    ]);
  });

  it('accepts allowAll as an explicit open API', () => {
    expect(typeof cronRouter(scheduler, { authorize: allowAll })).toBe('function');
  });
});

describe('the Express request', () => {
  let server: Server | null = null;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    server = null;
  });

  it('is what authorize, tenant and actor receive, with what the host app set on it', async () => {
    const scheduler = createScheduler({ store: memoryStore(), logger: false });
    const seen: string[] = [];
    const app = express();
    app.use((req, _res, next) => {
      (req as unknown as { user: string }).user = 'from-session';
      next();
    });
    app.use(
      '/api/cron',
      cronRouter(scheduler, {
        authorize: (req, action) => {
          seen.push(
            `${req.baseUrl} ${req.get('x-probe')} ${(req as unknown as { user: string }).user} ${action}`,
          );
          return true;
        },
        actor: (req) => (req as unknown as { user: string }).user,
      }),
    );
    server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/cron`;
    const answer = await fetch(`${base}/executors/unknown/trigger`, {
      method: 'POST',
      headers: { 'x-probe': 'yes', 'content-type': 'application/json' },
    });
    expect(answer.status).toBe(404);
    await fetch(`${base}/jobs`, { headers: { 'x-probe': 'yes' } });
    expect(seen).toEqual([
      '/api/cron yes from-session executors:trigger',
      '/api/cron yes from-session jobs:read',
    ]);
  });

  it('keeps working after a host body parser has read the body', async () => {
    const scheduler = createScheduler({
      store: memoryStore(),
      logger: false,
      executors: { noop: defineExecutor({ run: () => null }) },
    });
    const app = express();
    app.use(express.json());
    app.use('/api/cron', cronRouter(scheduler, { authorize: allowAll, actor: () => 'host' }));
    server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/cron`;
    const created = await fetch(`${base}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'parsed-by-host', schedule: 'daily', executor: 'noop' }),
    });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ data: { name: 'parsed-by-host', createdBy: 'host' } });
  });

  it('with allowAll, refuses a request a DNS-rebinding page sends (Host and Origin on its own domain)', async () => {
    const scheduler = createScheduler({
      store: memoryStore(),
      logger: false,
      executors: { noop: defineExecutor({ run: () => null }) },
    });
    const app = express();
    app.use('/api/cron', cronRouter(scheduler, { authorize: allowAll }));
    server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    const port = (server.address() as AddressInfo).port;
    const post = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const body = JSON.stringify({ name: `job-${host.length}`, schedule: 'daily', executor: 'noop' });
        const request = httpRequest(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/api/cron/jobs',
            headers: { host, origin: `http://${host}`, 'content-type': 'application/json' },
          },
          (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          },
        );
        request.on('error', reject);
        request.end(body);
      });
    expect(await post(`rebind.attacker.example:${port}`)).toBe(403);
    // A Host that names no host is refused, not a 500 from building the request's URL.
    expect(await post('evil.example:99999')).toBe(403);
    expect(await post(`127.0.0.1:${port}`)).toBe(201);
  });

  async function behindHostParser(parser: express.RequestHandler, errors: unknown[] = []): Promise<string> {
    const scheduler = createScheduler({
      store: memoryStore(),
      logger: false,
      executors: { noop: defineExecutor({ run: () => null }) },
    });
    await scheduler.jobs.create({ name: 'j', schedule: 'daily', executor: 'noop' });
    const app = express();
    app.use(parser);
    app.use('/api/cron', cronRouter(scheduler, { authorize: allowAll }));
    app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      errors.push(error);
      res.status(500).end();
    });
    server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/cron`;
  }

  it('answers a body the host parsed that is nested too deep with the 400 the API gives when it reads the body itself', async () => {
    const base = await behindHostParser(express.json());
    for (const depth of [40, 5000, 20_000]) {
      const answer = await fetch(`${base}/jobs/j/pause`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `{"note":${'['.repeat(depth)}${']'.repeat(depth)}}`,
      });
      expect(answer.status, `depth ${depth}`).toBe(400);
      expect(answer.headers.get('allow')).toBeNull();
      expect((await answer.json()).error.message).toMatch(/body is nested deeper than 32 levels/);
    }
    const paused = await fetch(`${base}/jobs/j/pause`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"note":"fine"}',
    });
    expect(paused.status).toBe(200);
  });

  it('reads the bytes a raw parser of the host read first as the body they are, UTF-8 checks included', async () => {
    const base = await behindHostParser(express.raw({ type: '*/*' }));
    const post = (path: string, body: string | Uint8Array<ArrayBuffer>) =>
      fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const paused = await post('/jobs/j/pause', '{"note":"maintenance window"}');
    expect(paused.status).toBe(200);
    expect((await paused.json()).data.pausedNote).toBe('maintenance window');
    for (const body of ['{"note":', new Uint8Array([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])]) {
      const bad = await post('/jobs/j/resume', body);
      expect(bad.status).toBe(400);
      expect((await bad.json()).error.code).toBe('INVALID_JSON');
    }
  });

  it('passes bytes a custom parser left as an ArrayBuffer or another typed array on as the body', async () => {
    const text = '{"note":"from bytes"}';
    const bodies: Record<string, unknown> = {
      arraybuffer: new TextEncoder().encode(text).buffer,
      dataview: new DataView(new TextEncoder().encode(`xx${text}`).buffer, 2),
    };
    const base = await behindHostParser((req, _res, next) => {
      (req as unknown as { _body: boolean })._body = true;
      req.body = bodies[req.get('x-body') ?? ''];
      next();
    });
    for (const kind of Object.keys(bodies)) {
      const answer = await fetch(`${base}/jobs/j/pause`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-body': kind },
      });
      expect(answer.status, kind).toBe(200);
      expect((await answer.json()).data.pausedNote, kind).toBe('from bytes');
      await fetch(`${base}/jobs/j/resume`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      });
    }
  });

  it.each([
    ['text', express.text({ type: '*/*' }), '{"note":"hi"}'],
    ['json with strict: false', express.json({ strict: false }), JSON.stringify('{"note":"smuggled"}')],
  ])(
    'refuses text a %s parser of the host left, saying to mount the router first, and changes nothing',
    async (_kind, parser, body) => {
      const base = await behindHostParser(parser);
      const answer = await fetch(`${base}/jobs/j/pause`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(answer.status).toBe(400);
      expect((await answer.json()).error.details.reason).toMatch(/mount the router before it/);
      const job = await fetch(`${base}/jobs/j`);
      expect((await job.json()).data.enabled).toBe(true);
    },
  );

  it('answers a body the host parsed that cannot be written as JSON (a cycle, a BigInt) with a 400 naming the body', async () => {
    const parsers: Record<string, unknown> = {
      cycle: (() => {
        const body: Record<string, unknown> = {};
        body.self = body;
        return body;
      })(),
      bigint: { note: 10n },
    };
    const errors: unknown[] = [];
    const base = await behindHostParser((req, _res, next) => {
      (req as unknown as { _body: boolean })._body = true;
      req.body = parsers[req.get('x-body') ?? ''];
      next();
    }, errors);
    for (const kind of ['cycle', 'bigint']) {
      const answer = await fetch(`${base}/jobs/j/pause`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-body': kind },
      });
      expect(answer.status, kind).toBe(400);
      expect((await answer.json()).error.message, kind).toMatch(/request body/);
    }
    expect(errors).toEqual([]);
  });
});
