/**
 * Hono on Node with the Cronkeeper API and dashboard at `/api/cron`, behind a toy bearer-token
 * check, and a heartbeat route for a platform cron. `startExampleApp({ port: 0 })` starts it for tests.
 */
import type { AddressInfo } from 'node:net';
import { memoryStore } from '@cronkeeper/adapter-memory';
import { createScheduler, defineExecutor, type Scheduler } from '@cronkeeper/core';
import { type CronAction, createCronHandler } from '@cronkeeper/http';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { z } from 'zod';

/** A signed-in user of the toy token store. */
export interface ApiUser {
  name: string;
  role: 'admin' | 'viewer';
  /** The tenant the user works in; null for the operators of the whole app. */
  tenant: string | null;
}

/** The toy token store: token → user. A real app checks its own sessions or JWTs here. */
export const DEMO_TOKENS: Record<string, ApiUser> = {
  'admin-token': { name: 'admin', role: 'admin', tenant: null },
  'viewer-token': { name: 'viewer', role: 'viewer', tenant: null },
};

const READ_ONLY: readonly CronAction[] = [
  'jobs:read',
  'executors:read',
  'runs:read',
  'stats:read',
  'events:read',
  'dashboard:view',
  'openapi:read',
];

/** The user behind `Authorization: Bearer <token>` or the `session` cookie, if any. */
export function apiUser(request: Request): ApiUser | null {
  const bearer = /^Bearer (.+)$/.exec(request.headers.get('authorization') ?? '')?.[1];
  const cookie = /(?:^|;\s*)session=([^;]+)/.exec(request.headers.get('cookie') ?? '')?.[1];
  const token = bearer ?? (cookie ? decodeURIComponent(cookie) : undefined);
  return token ? (DEMO_TOKENS[token] ?? null) : null;
}

/** The example's scheduler: two executors and their jobs, on the memory store. */
export function createExampleScheduler(): Scheduler {
  return createScheduler({
    store: memoryStore(),
    logger: false,
    executors: {
      syncInvoices: defineExecutor({
        description: 'Synchronises invoices',
        params: z.object({ batchSize: z.number().int().min(1).max(50) }),
        defaults: { batchSize: 10 },
        run: (ctx) => ({ invoices: ctx.params.batchSize }),
      }),
      'monitor-openai': defineExecutor({
        description: 'Checks the monthly OpenAI budget',
        run: () => ({ usage: 3.24, budget: 10 }),
      }),
    },
    jobs: [
      { name: 'morning-sync-3am', schedule: '0 3 * * *', executor: 'syncInvoices' },
      { name: 'monitor-openai', schedule: 'every_5_minutes', executor: 'monitor-openai' },
    ],
  });
}

/** Constant-time comparison of the heartbeat secret (no early exit on the first differing byte). */
function sameSecret(given: string, expected: string): boolean {
  let diff = given.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) diff |= (given.charCodeAt(i) | 0) ^ expected.charCodeAt(i);
  return diff === 0 && expected.length > 0;
}

/** The host app: its own route, the heartbeat, and the API at `/api/cron`. */
export function createApp(scheduler: Scheduler, options: { heartbeatSecret: string }): Hono {
  const handle = createCronHandler(scheduler, {
    basePath: '/api/cron',
    authorize: (request, action) => {
      const user = apiUser(request);
      if (!user) return 'unauthenticated';
      return user.role === 'admin' || READ_ONLY.includes(action);
    },
    tenant: (request) => apiUser(request)?.tenant ?? null,
    actor: (request) => apiUser(request)?.name ?? null,
    dashboard: true,
  });
  const app = new Hono();
  app.get('/health', (c) => c.json({ ok: true }));
  // Browser sign-in for the demo: `/login?token=admin-token` sets the cookie and opens the dashboard.
  app.get('/login', (c) => {
    const token = c.req.query('token') ?? '';
    if (!DEMO_TOKENS[token]) return c.text('unknown token; try /login?token=admin-token', 401);
    c.header('Set-Cookie', `session=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`);
    return c.redirect('/api/cron/', 302);
  });
  // A platform cron (or any scheduler outside the app) calls this every minute with the secret.
  app.post('/api/heartbeat', async (c) => {
    const given = /^Bearer (.+)$/.exec(c.req.header('authorization') ?? '')?.[1] ?? '';
    if (!sameSecret(given, options.heartbeatSecret)) return c.json({ error: 'unauthorized' }, 401);
    const { summary } = await scheduler.runDue({ limit: 100 });
    return c.json({ data: summary });
  });
  app.all('/api/cron', (c) => handle(c.req.raw));
  app.all('/api/cron/*', (c) => handle(c.req.raw));
  return app;
}

/** A running example app. */
export interface RunningExample {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Where the API is: `${url}/api/cron`. */
  apiUrl: string;
  /** Opens the dashboard signed in as admin: `${url}/login?token=admin-token`. */
  loginUrl: string;
  scheduler: Scheduler;
  close(): Promise<void>;
}

/** Start the app on `port` (0 picks a free one); `start: false` leaves the scheduler's loop off (heartbeat only). */
export async function startExampleApp(options: {
  port: number;
  heartbeatSecret?: string;
  start?: boolean;
}): Promise<RunningExample> {
  const scheduler = createExampleScheduler();
  // Started, the loop seeds the default jobs and runs what comes due; heartbeat-only, seed them here
  // (idempotent) and let `/api/heartbeat` run what is due.
  if (options.start !== false) await scheduler.start();
  else await scheduler.jobs.seed();
  const app = createApp(scheduler, { heartbeatSecret: options.heartbeatSecret ?? 'change-me' });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const started = serve({ fetch: app.fetch, port: options.port, hostname: '127.0.0.1' }, () =>
      resolve(started),
    );
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    apiUrl: `${url}/api/cron`,
    loginUrl: `${url}/login?token=admin-token`,
    scheduler,
    async close() {
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
      await scheduler.stop({ grace: '1s' });
    },
  };
}
