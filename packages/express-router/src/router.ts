import type { Scheduler } from '@cronkeeper/core';
import { createCronApi, errorResponse, HttpError, parseApiOptions } from '@cronkeeper/http';
import express, { type Request, type Router } from 'express';
import { pathAndQuery, sendWebResponse, toWebRequest } from './bridge.js';
import { type CronRouterOptions, cronRouterOptionsSchema } from './options.js';

const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);

/**
 * The mount path without its trailing slash (`/api/cron`), when the dashboard page is asked for
 * there: it is redirected to `/api/cron/` so the page's relative URLs resolve. The target is built
 * from the mount path Express matched, never from the request line's host.
 */
function bareMountRedirect(req: Request): string | null {
  if (req.method !== 'GET' && req.method !== 'HEAD') return null;
  if (req.path !== '/') return null;
  const [pathname = '', search] = pathAndQuery(req.originalUrl).split(/\?(.*)/s, 2);
  if (pathname.endsWith('/')) return null;
  const mount = `/${req.baseUrl.replace(/^[/\\]+/, '')}`;
  return `${mount.replace(/\/+$/, '')}/${search === undefined ? '' : `?${search}`}`;
}

/**
 * An Express router exposing the scheduler over HTTP: mount it in an existing app, e.g.
 * `app.use('/api/cron', cronRouter(scheduler, { authorize }))`. Works with Express 4.18+ and 5. It
 * is `createCronHandler`'s API (same routes, schemas, errors and events) with `authorize`, `tenant`,
 * `actor` and `onError` called with the Express `req`.
 */
export function cronRouter(scheduler: Scheduler, options: CronRouterOptions): Router {
  const settings = parseApiOptions(cronRouterOptionsSchema, options) as CronRouterOptions;
  const api = createCronApi<Request>(scheduler, settings, 'cronRouter');
  const router = express.Router();
  router.use((req, res, next) => {
    const redirect = settings.dashboard ? bareMountRedirect(req) : null;
    if (redirect !== null) {
      res.redirect(302, redirect);
      return;
    }
    // A method the fetch API refuses to carry (CONNECT, TRACE, TRACK): no route answers it anyway.
    if (FORBIDDEN_METHODS.has(req.method.toUpperCase())) {
      void sendWebResponse(
        errorResponse(new HttpError(405, 'METHOD_NOT_ALLOWED', 'method not allowed')),
        res,
      );
      return;
    }
    let request: globalThis.Request;
    try {
      request = toWebRequest(req, res);
    } catch (error) {
      // A body the host app parsed that cannot be passed on; anything else is not the client's.
      if (error instanceof HttpError) void sendWebResponse(errorResponse(error), res);
      else next(error);
      return;
    }
    api
      .handle({ request, source: req, path: req.path })
      .then((response) => sendWebResponse(response, res))
      .catch(next);
  });
  return router;
}
