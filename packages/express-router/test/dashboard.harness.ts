import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { memoryStore } from '@cronkeeper/adapter-memory';
import { createScheduler, defineExecutor, type Scheduler } from '@cronkeeper/core';
import express from 'express';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { z } from 'zod';
import { allowAll, cronRouter } from '../src/index.js';

// What dashboard.browser.test.ts runs against: a host app on the memory store with executors of
// known durations, the router mounted with the dashboard, and Debian's headless Chromium.

/** Debian's Chromium; CRONKEEPER_CHROMIUM points elsewhere. */
export const CHROMIUM = process.env.CRONKEEPER_CHROMIUM ?? '/usr/bin/chromium';

/** Launch Chromium headless, with nothing that reaches the network on its own. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Screenshots land here (gitignored), for people to look at after a run. */
export const ARTIFACTS = fileURLToPath(new URL('../../../test-results/dashboard/', import.meta.url));
export const MOUNT = '/api/cron';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Harness {
  scheduler: Scheduler;
  server: Server;
  origin: string;
  browser: Browser;
}

/**
 * The host app on port 0: a 1.5 s job with a params schema (morning-sync-3am), a 6 s one
 * (catalogue-import), one that always fails (check-alerts) and a paused one (weekly-report).
 */
export async function startApp(): Promise<Omit<Harness, 'browser'>> {
  const scheduler = createScheduler({
    store: memoryStore(),
    logger: false,
    pollInterval: '200ms',
    executors: {
      // 1.5 s: long enough to see "running", short enough for a test.
      'sync-invoices': defineExecutor({
        description: 'Synchronises invoices',
        params: z.object({ batchSize: z.number().int().max(50).default(10) }),
        estimatedDuration: '1.5s',
        run: async (ctx) => {
          ctx.log.info(`processing a batch of ${ctx.params.batchSize}`);
          await sleep(1500);
          ctx.log.info('batch done');
          return { synced: ctx.params.batchSize };
        },
      }),
      'import-catalogue': defineExecutor({
        description: 'Imports the supplier catalogue',
        estimatedDuration: '6s',
        run: async (ctx) => {
          await sleep(6000);
          ctx.signal.throwIfAborted();
        },
      }),
      'check-alerts': defineExecutor({
        description: 'Checks system alerts',
        run: () => {
          throw new Error('alert service answered 503');
        },
      }),
    },
    jobs: [
      {
        name: 'morning-sync-3am',
        description: 'Morning synchronisation',
        schedule: '0 3 * * *',
        timezone: 'Europe/Paris',
        executor: 'sync-invoices',
      },
      { name: 'catalogue-import', schedule: 'every_30_minutes', executor: 'import-catalogue' },
      { name: 'check-alerts', schedule: '*/5 * * * *', executor: 'check-alerts' },
      {
        name: 'weekly-report',
        schedule: '0 2 * * 1',
        executor: 'sync-invoices',
        enabled: false,
        pausedNote: 'waiting for Q3 figures',
      },
    ],
  });
  await scheduler.start();
  const app = express();
  app.use(
    MOUNT,
    cronRouter(scheduler, { authorize: allowAll, actor: () => 'ops@example.test', dashboard: true }),
  );
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const { port } = server.address() as AddressInfo;
  return { scheduler, server, origin: `http://127.0.0.1:${port}` };
}

/** Call the router directly, as another admin or a script would. */
export async function apiCall(h: Harness, method: string, path: string, body?: unknown) {
  const response = await fetch(`${h.origin}${MOUNT}/${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: response.status,
    json: (await response.json()) as { data?: { id: string; status: string } },
  };
}

/** Console errors and uncaught exceptions, minus the ones an expected 409/429 answer produces. */
export function watchConsole(page: Page, allowStatuses: number[] = []): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    if (allowStatuses.some((status) => text.includes(`status of ${status}`))) return;
    errors.push(text);
  });
  return errors;
}

/** A new page on the dashboard, once the jobs table has rendered. */
export async function openDashboard(h: Harness, context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${h.origin}${MOUNT}/`);
  await page.locator('tr[data-job="morning-sync-3am"]').waitFor();
  return page;
}

/** The jobs-table row of a job. */
export const row = (page: Page, job: string) => page.locator(`tr[data-job="${job}"]`);
