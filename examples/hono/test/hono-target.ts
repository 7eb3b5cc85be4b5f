import type { AddressInfo } from 'node:net';
import { createCronHandler } from '@cronkeeper/http';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import {
  adaptOptions,
  defaultOptions,
  defineTarget,
  makeHarness,
  type RequestView,
  testScheduler,
} from '../../../packages/http/test/support/harness.js';
import { sendRawRequest, stalledRequest } from '../../../packages/http/test/support/raw-http.js';

const MOUNT = '/api/cron';

const view = (request: Request): RequestView => ({
  header: (name) => request.headers.get(name) ?? undefined,
});

/** The fetch handler mounted in Hono, served by `@hono/node-server`, called over real HTTP. */
export const honoTarget = defineTarget('hono', async (options, shared) => {
  const parts = testScheduler(shared);
  if (shared.start) await parts.scheduler.start();
  const handle = createCronHandler(parts.scheduler, {
    ...adaptOptions({ ...defaultOptions(parts.clock), ...options }, view),
    basePath: MOUNT,
  });
  const app = new Hono();
  app.all(MOUNT, (c) => handle(c.req.raw));
  app.all(`${MOUNT}/*`, (c) => handle(c.req.raw));
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started));
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return makeHarness('hono', origin, parts, {
    send: (path, init) => fetch(`${origin}${MOUNT}${path}`, { ...init, redirect: 'manual' }),
    sendRaw: (target, headers, method) => sendRawRequest(port, target, headers, method),
    stall: (path, headers) => stalledRequest(port, `${MOUNT}${path}`, headers),
    async close() {
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
    },
  });
});
