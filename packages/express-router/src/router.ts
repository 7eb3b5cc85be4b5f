import { type Scheduler, systemClock, toMs, ValidationError } from '@cronkeeper/core';
import express, { type ErrorRequestHandler, type RequestHandler, type Router } from 'express';
import { HttpError, sendError, toHttpError } from './errors.js';
import { eventRoutes } from './events.js';
import { openApiDocument } from './openapi.js';
import { type CronAction, type CronRouterOptions, cronRouterOptionsSchema } from './options.js';
import { pageHandlers } from './page.js';
import { TriggerLimiter } from './rate-limit.js';
import { adminRoutes } from './routes/admin.js';
import { jobRoutes } from './routes/jobs.js';
import { runRoutes } from './routes/runs.js';
import { triggerRoutes } from './routes/trigger.js';
import { type Dispatch, defineRoute, handlerFor, type RouteDef } from './routing.js';

const SCHEDULER_METHODS = ['trigger', 'schedule', 'cancel', 'runDue', 'executors', 'on', 'off'] as const;

function assertScheduler(scheduler: unknown): asserts scheduler is Scheduler {
  const candidate = scheduler as Record<string, unknown> | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    SCHEDULER_METHODS.some((method) => typeof candidate[method] !== 'function') ||
    typeof (candidate.jobs as Record<string, unknown> | undefined)?.list !== 'function'
  )
    throw ValidationError.field('scheduler', 'cronRouter needs the scheduler returned by createScheduler()');
}

function parseOptions(options: CronRouterOptions) {
  const result = cronRouterOptionsSchema.safeParse(options ?? {});
  if (result.success) return result.data;
  throw new ValidationError(
    result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
  );
}

/**
 * An Express router exposing the scheduler over HTTP: mount it in an existing app, e.g.
 * `app.use('/api/cron', cronRouter(scheduler, { authorize }))`. Works with Express 4.18+ and 5;
 * reads its own JSON bodies (after authorization) and answers every error as JSON.
 */
export function cronRouter(scheduler: Scheduler, options: CronRouterOptions): Router {
  assertScheduler(scheduler);
  const settings = parseOptions(options);
  const clock = settings.clock ?? systemClock;
  const heartbeatMs = Math.max(10, toMs(settings.events?.heartbeat ?? '15s', 'events.heartbeat'));
  const dispatch: Dispatch = {
    scheduler,
    limiter: new TriggerLimiter(scheduler, settings.rateLimits, () => clock.now()),
    authorize: settings.authorize,
    tenant: settings.tenant ?? (() => null),
    actor: settings.actor ?? (() => null),
    onError:
      settings.onError ??
      ((error) => {
        console.error('[cronkeeper/express] request failed:', error);
      }),
    parseBody: express.json({ limit: settings.bodyLimit ?? '100kb', strict: true, type: () => true }),
  };

  const routes: RouteDef[] = [
    ...jobRoutes(scheduler),
    ...triggerRoutes(scheduler, dispatch.limiter, clock),
    ...runRoutes(scheduler),
    ...adminRoutes(scheduler),
    ...eventRoutes(scheduler, heartbeatMs),
  ];
  let document: unknown = null;
  routes.push(
    defineRoute({
      method: 'get',
      path: '/openapi.json',
      action: 'openapi:read',
      tag: 'meta',
      summary: 'This API described as OpenAPI 3.1, from the zod schemas it validates with',
      handle: async () => {
        document ??= openApiDocument(routes, { title: 'Cronkeeper', version: '1' });
        return document;
      },
    }),
  );

  const router = express.Router();
  if (settings.dashboard) {
    const guard = async (
      req: Parameters<RequestHandler>[0],
      res: Parameters<RequestHandler>[1],
      action: CronAction,
    ) => {
      try {
        const verdict = await dispatch.authorize(req, action);
        if (verdict === true) return true;
        sendError(
          res,
          verdict === 'unauthenticated'
            ? new HttpError(401, 'UNAUTHENTICATED', 'sign in to use this page')
            : new HttpError(403, 'FORBIDDEN', `not allowed to ${action}`),
        );
      } catch (error) {
        dispatch.onError?.(error, req);
        sendError(res, toHttpError(error).error);
      }
      return false;
    };
    const page = pageHandlers(guard);
    router.get('/', page.page);
    router.get('/assets/dashboard.js', page.script);
    router.get('/assets/dashboard.css', page.style);
  }
  for (const route of routes) router[route.method](route.path, handlerFor(route, dispatch));

  // A known path with another method: 405 naming the allowed ones.
  const methodsByPath = new Map<string, string[]>();
  for (const route of routes)
    methodsByPath.set(route.path, [...(methodsByPath.get(route.path) ?? []), route.method]);
  for (const [path, methods] of methodsByPath) {
    const allow = methods.map((method) => method.toUpperCase()).join(', ');
    router.all(path, (_req, res) => {
      sendError(
        res,
        new HttpError(405, 'METHOD_NOT_ALLOWED', `use ${allow} on this path`, {}, { Allow: allow }),
      );
    });
  }
  router.use((req, res) => {
    sendError(
      res,
      new HttpError(404, 'NOT_FOUND', `no route ${req.method} ${req.path}`, { resource: 'route' }),
    );
  });
  const onError: ErrorRequestHandler = (error, req, res, _next) => {
    const { error: answer, internal } = toHttpError(error);
    if (internal) dispatch.onError?.(error, req);
    sendError(res, answer);
  };
  router.use(onError);
  return router;
}
