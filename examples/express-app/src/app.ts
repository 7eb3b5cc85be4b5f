/**
 * An existing Express server that mounts the Cronkeeper API and dashboard at `/api/cron` behind its
 * own (toy) session check. `startExampleApp({ port: 0 })` starts it for tests and browser tests.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { memoryStore } from '@cronkeeper/adapter-memory';
import { createScheduler, defineExecutor, type Scheduler } from '@cronkeeper/core';
import { type CronAction, cronRouter } from '@cronkeeper/express';
import express, { type Express, type Request } from 'express';
import { z } from 'zod';

/** A signed-in user of the toy session store. */
export interface SessionUser {
  name: string;
  role: 'admin' | 'viewer';
  /** The tenant the user works in; null for the operators of the whole app. */
  tenant: string | null;
}

/** The toy session store: token → user. A real app reads its own sessions or JWTs here. */
export const DEMO_TOKENS: Record<string, SessionUser> = {
  'admin-token': { name: 'admin', role: 'admin', tenant: null },
  'viewer-token': { name: 'viewer', role: 'viewer', tenant: null },
  'acme-token': { name: 'acme-admin', role: 'admin', tenant: 'acme' },
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
export function sessionUser(req: Request): SessionUser | null {
  const bearer = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1];
  const cookie = /(?:^|;\s*)session=([^;]+)/.exec(req.get('cookie') ?? '')?.[1];
  const token = bearer ?? (cookie ? decodeURIComponent(cookie) : undefined);
  return token ? (DEMO_TOKENS[token] ?? null) : null;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });

/** The scheduler of the example: executors shaped like a typical app's scheduled scripts, and their default jobs. */
export function createExampleScheduler(): Scheduler {
  return createScheduler({
    store: memoryStore(),
    pollInterval: '500ms',
    logger: false,
    executors: {
      markUsersOffline: defineExecutor({
        description: 'Marks users offline when their last heartbeat is older than the timeout',
        params: z.object({ timeout_minutes: z.number().int().positive() }),
        defaults: { timeout_minutes: 5 },
        estimatedDuration: '1s',
        run: async (ctx) => {
          await sleep(1000, ctx.signal);
          return { users_marked_offline: 12, timeout: ctx.params.timeout_minutes };
        },
      }),
      synchroFacture: defineExecutor({
        description: 'Synchronises invoices',
        params: z.object({ batchSize: z.number().int().min(1).max(50) }),
        defaults: { batchSize: 10 },
        estimatedDuration: '3s',
        run: async (ctx) => {
          for (let page = 1; page <= 3; page++) {
            ctx.progress(page * 33, `page ${page}/3`);
            ctx.log.info(`page ${page}: ${ctx.params.batchSize} invoices`);
            await sleep(1000, ctx.signal);
          }
          return { invoices: ctx.params.batchSize * 3 };
        },
      }),
      'monitor-openai': defineExecutor({
        description: 'Checks the monthly OpenAI budget',
        estimatedDuration: '5s',
        run: async (ctx) => {
          await sleep(500, ctx.signal);
          return { usage: 3.24, budget: 10 };
        },
      }),
    },
    jobs: [
      {
        name: 'morning-sync-3am',
        schedule: '0 3 * * *',
        description: 'Morning synchronisation tasks at 3 AM',
        tasks: ['synchroFacture', { executor: 'markUsersOffline', enabled: true }],
      },
      { name: 'mark-users-offline', schedule: 'every_5_minutes', executor: 'markUsersOffline' },
      { name: 'monitor-openai', schedule: '0 8 * * *', executor: 'monitor-openai', overlap: 'skip' },
      { name: 'acme-invoices', tenantId: 'acme', schedule: 'hourly', executor: 'synchroFacture' },
    ],
  });
}

/** The host app: its own routes, a login that sets the session cookie, and the router at `/api/cron`. */
export function createApp(scheduler: Scheduler): Express {
  const app = express();
  app.get('/health', (_req, res) => {
    res.json({ ok: true });
  });
  // Browser sign-in for the demo: `/login?token=admin-token` sets the cookie and opens the dashboard.
  app.get('/login', (req, res) => {
    const token = typeof req.query.token === 'string' ? req.query.token : '';
    if (!DEMO_TOKENS[token]) {
      res.status(401).type('text').send('unknown token; try /login?token=admin-token');
      return;
    }
    res.setHeader('Set-Cookie', `session=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`);
    res.redirect(302, '/api/cron/');
  });
  app.use(
    '/api/cron',
    cronRouter(scheduler, {
      authorize: (req, action) => {
        const user = sessionUser(req);
        if (!user) return 'unauthenticated';
        return user.role === 'admin' || READ_ONLY.includes(action);
      },
      tenant: (req) => sessionUser(req)?.tenant ?? null,
      actor: (req) => sessionUser(req)?.name ?? null,
      dashboard: true,
    }),
  );
  return app;
}

/** A running example app. */
export interface RunningExample {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Where the router is mounted: `${url}/api/cron`. */
  apiUrl: string;
  /** Opens the dashboard signed in as admin: `${url}/login?token=admin-token`. */
  loginUrl: string;
  scheduler: Scheduler;
  server: Server;
  /** Stop the server and the scheduler. */
  close(): Promise<void>;
}

/** Start the example (scheduler loop and HTTP server); `port: 0` picks a free port. */
export async function startExampleApp(
  options: { port?: number; host?: string; scheduler?: Scheduler } = {},
): Promise<RunningExample> {
  const scheduler = options.scheduler ?? createExampleScheduler();
  await scheduler.start();
  const host = options.host ?? '127.0.0.1';
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = createApp(scheduler).listen(options.port ?? 0, host, () => resolve(listening));
    listening.on('error', reject);
  });
  const url = `http://${host}:${(server.address() as AddressInfo).port}`;
  return {
    url,
    apiUrl: `${url}/api/cron`,
    loginUrl: `${url}/login?token=admin-token`,
    scheduler,
    server,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await scheduler.stop({ grace: '2s' });
    },
  };
}
