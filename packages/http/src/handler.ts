import type { Scheduler } from '@cronkeeper/core';
import { createCronApi, parseApiOptions } from './api.js';
import { errorResponse, HttpError } from './errors.js';
import { type CronHandlerOptions, cronHandlerOptionsSchema } from './options.js';

/** A web-standard request handler: what Next.js route handlers, Hono, Bun and Deno serve. */
export type CronHandler = (request: Request) => Promise<Response>;

/**
 * The scheduler's HTTP API and dashboard as a web-standard handler, e.g. in a Next.js route handler:
 * `const handle = createCronHandler(scheduler, { authorize, basePath: '/api/cron' })`, then
 * `export { handle as GET, handle as POST, … }`. `authorize`, `tenant` and `actor` receive the
 * `Request`. Requests outside `basePath` are answered 404; every answer is a `Response`, errors
 * included (it never rejects).
 */
export function createCronHandler(scheduler: Scheduler, options: CronHandlerOptions): CronHandler {
  const settings = parseApiOptions(cronHandlerOptionsSchema, options) as CronHandlerOptions;
  const api = createCronApi<Request>(scheduler, settings, 'createCronHandler');
  const basePath = (settings.basePath ?? '').replace(/\/+$/, '');
  return async (request) => {
    const { pathname } = new URL(request.url);
    const inside =
      pathname.startsWith(basePath) &&
      (pathname.length === basePath.length || pathname[basePath.length] === '/');
    if (!inside)
      return errorResponse(
        new HttpError(404, 'NOT_FOUND', `no route ${request.method} ${pathname.slice(0, 200)}`, {
          resource: 'route',
        }),
      );
    return api.handle({ request, source: request, path: pathname.slice(basePath.length) });
  };
}
