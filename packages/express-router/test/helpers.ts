import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { memoryStore } from '@cronkeeper/adapter-memory';
import { createScheduler, defineExecutor, type Scheduler, type Store } from '@cronkeeper/core';
import { type ManualClock, manualClock } from '@cronkeeper/core/testing';
import express from 'express';
import { z } from 'zod';
import { type CronAction, type CronRouterOptions, cronRouter } from '../src/index.js';

/** Releases every run of the `slow` executor that is waiting. */
export interface Gate {
  release(): void;
}

export interface Harness {
  scheduler: Scheduler;
  store: Store;
  clock: ManualClock;
  gate: Gate;
  base: string;
  server: Server;
  /** `fetch` on the API with a JSON body and the test's identity headers. */
  call(method: string, path: string, options?: CallOptions): Promise<Answer>;
  close(): Promise<void>;
}

export interface CallOptions {
  body?: unknown;
  /** Raw body text (sent as is). */
  raw?: string;
  /** `x-user`; null sends no user (unauthenticated). @default 'alice' */
  user?: string | null;
  /** `x-role`. @default 'admin' */
  role?: 'admin' | 'viewer';
  /** `x-tenant`; absent for an operator. */
  tenant?: string;
  headers?: Record<string, string>;
}

export interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
  json: any;
  text: string;
}

const READ_ACTIONS: readonly CronAction[] = [
  'jobs:read',
  'executors:read',
  'runs:read',
  'stats:read',
  'events:read',
  'dashboard:view',
  'openapi:read',
];

/** Authorization as a host would write it: no user → 401, viewers only read, admins do everything. */
export const testAuthorize: CronRouterOptions['authorize'] = (req, action) => {
  const user = req.get('x-user');
  if (!user) return 'unauthenticated';
  if (req.get('x-role') === 'viewer') return READ_ACTIONS.includes(action);
  return true;
};

/** An Express app with the router at `/api/cron`, on the memory store and a manual clock. */
export async function startHarness(
  options: Partial<CronRouterOptions> = {},
  shared?: { store?: Store; clock?: ManualClock; start?: boolean },
): Promise<Harness> {
  const clock = shared?.clock ?? manualClock('2026-03-29T10:00:00Z');
  const store = shared?.store ?? memoryStore();
  let waiting: Array<() => void> = [];
  const gate: Gate = {
    release() {
      for (const resolve of waiting) resolve();
      waiting = [];
    },
  };
  const scheduler = createScheduler({
    store,
    clock,
    logger: false,
    maintenanceJobs: true,
    executors: {
      sync: defineExecutor({
        description: 'Synchronises invoices',
        params: z.object({ batchSize: z.number().int().max(50).optional() }),
        estimatedDuration: '5s',
        run: (ctx) => ({ synced: ctx.params.batchSize ?? 10 }),
      }),
      slow: defineExecutor({
        description: 'Waits for the test to release it',
        run: (ctx) =>
          new Promise<void>((resolve, reject) => {
            waiting.push(resolve);
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
          }),
      }),
      broken: defineExecutor({
        run: () => {
          throw new Error('upstream answered 503');
        },
      }),
    },
  });
  if (shared?.start) await scheduler.start();
  const app = express();
  app.use(
    '/api/cron',
    cronRouter(scheduler, {
      authorize: testAuthorize,
      tenant: (req) => req.get('x-tenant') ?? null,
      actor: (req) => req.get('x-user') ?? null,
      clock,
      onError: () => {},
      ...options,
    }),
  );
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/cron`;
  const call: Harness['call'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    const user = opts.user === undefined ? 'alice' : opts.user;
    if (user !== null) headers['x-user'] = user;
    headers['x-role'] = opts.role ?? 'admin';
    if (opts.tenant !== undefined) headers['x-tenant'] = opts.tenant;
    let body: string | undefined = opts.raw;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${base}${path}`, { method, headers, body, redirect: 'manual' });
    const text = await response.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
    return { status: response.status, headers: response.headers, json, text };
  };
  return {
    scheduler,
    store,
    clock,
    gate,
    base,
    server,
    call,
    async close() {
      gate.release();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await scheduler.stop({ grace: '1s' });
    },
  };
}

/** A job definition on the `sync` executor. */
export function syncJob(name: string, extra: Record<string, unknown> = {}) {
  return { name, schedule: '0 3 * * *', executor: 'sync', ...extra };
}
