import { createCronHandler } from '../../src/index.js';
import {
  adaptOptions,
  defaultOptions,
  defineTarget,
  makeHarness,
  type RequestView,
  type StalledStream,
  testScheduler,
} from './harness.js';

/** Where the fetch target's handler believes it is served. */
export const FETCH_ORIGIN = 'http://cron.test';
export const FETCH_MOUNT = '/api/cron';

const view = (request: Request): RequestView => ({
  header: (name) => request.headers.get(name) ?? undefined,
});

/**
 * The fetch handler called in-process with real `Request` objects, as Next.js, Hono, Bun and Deno
 * call it: no HTTP server in between, so what it answers is exactly what the handler built.
 */
export const fetchTarget = defineTarget('fetch', async (options, shared) => {
  const parts = testScheduler(shared);
  if (shared.start) await parts.scheduler.start();
  const handle = createCronHandler(parts.scheduler, {
    ...adaptOptions({ ...defaultOptions(parts.clock), ...options }, view),
    basePath: FETCH_MOUNT,
  });
  const request = (target: string, init: RequestInit) =>
    new Request(/^[a-z]+:/i.test(target) ? target : `${FETCH_ORIGIN}${target}`, init);
  return makeHarness('fetch', FETCH_ORIGIN, parts, {
    send: (path, init) => handle(request(`${FETCH_MOUNT}${path}`, init)),
    sendRaw: (target, headers, method = 'GET') => handle(request(target, { headers, method })),
    async stall(path, headers) {
      const response = await handle(request(`${FETCH_MOUNT}${path}`, { headers }));
      const stalled: StalledStream = {
        async drain() {
          const reader = (response.body as ReadableStream<Uint8Array>).getReader();
          let bytes = 0;
          const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 1000));
          for (;;) {
            const next = await Promise.race([reader.read().catch(() => 'error' as const), timeout]);
            if (next === 'timeout' || next === 'error') {
              await reader.cancel().catch(() => {});
              return { bytes, ended: next };
            }
            if (next.done) return { bytes, ended: 'closed' };
            bytes += next.value.byteLength;
          }
        },
      };
      return stalled;
    },
    async close() {},
  });
});
