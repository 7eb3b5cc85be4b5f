import type { Server } from 'node:http';
import express, { type Request } from 'express';
import {
  adaptOptions,
  defaultOptions,
  defineTarget,
  makeHarness,
  type RequestView,
  testScheduler,
} from '../../../http/test/support/harness.js';
import { sendRawRequest, stalledRequest } from '../../../http/test/support/raw-http.js';
import { cronRouter } from '../../src/index.js';

export const EXPRESS_MOUNT = '/api/cron';

const view = (req: Request): RequestView => ({ header: (name) => req.get(name) });

/** The Express adapter mounted at `/api/cron` in an Express 5 app, called over real HTTP. */
export const expressTarget = defineTarget('express', async (options, shared) => {
  const parts = testScheduler(shared);
  if (shared.start) await parts.scheduler.start();
  const app = express();
  app.use(
    EXPRESS_MOUNT,
    cronRouter(parts.scheduler, adaptOptions({ ...defaultOptions(parts.clock), ...options }, view)),
  );
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const { port } = server.address() as { port: number };
  const base = `http://127.0.0.1:${port}${EXPRESS_MOUNT}`;
  return makeHarness('express', `http://127.0.0.1:${port}`, parts, {
    send: (path, init) => fetch(`${base}${path}`, { ...init, redirect: 'manual' }),
    sendRaw: (target, headers, method) => sendRawRequest(port, target, headers, method),
    stall: (path, headers) => stalledRequest(port, `${EXPRESS_MOUNT}${path}`, headers),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  });
});
