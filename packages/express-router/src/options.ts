import {
  type CronApiOptions,
  cronApiOptionsSchema,
  type ActorFn as HttpActorFn,
  type AuthorizeFn as HttpAuthorizeFn,
  type ErrorReporter as HttpErrorReporter,
  type TenantFn as HttpTenantFn,
  nameApiOptions,
} from '@cronkeeper/http';
import type { Request } from 'express';

/** Decides whether `req` may perform `action`; may be async. A throw is answered 500 and reported. */
export type AuthorizeFn = HttpAuthorizeFn<Request>;

/** The tenant a request is confined to, or null/undefined for an operator who sees every tenant. */
export type TenantFn = HttpTenantFn<Request>;

/** Who is making the request, recorded as `triggeredBy` / `createdBy` / `updatedBy`. */
export type ActorFn = HttpActorFn<Request>;

/** Called with every error answered 5xx (a store outage, a bug), for the host's logs. */
export type ErrorReporter = HttpErrorReporter<Request>;

/** Options of `cronRouter(scheduler, options)`: those of `createCronHandler`, called with the Express `req`. */
export type CronRouterOptions = CronApiOptions<Request>;

/** The zod schema `cronRouter` parses its options with; exported for hosts that build options from config. */
export const cronRouterOptionsSchema = nameApiOptions(cronApiOptionsSchema.clone(), {
  caller: 'cronRouter',
  hints: {
    basePath:
      "is not an option of cronRouter: Express takes the mount path, as in app.use('/api/cron', cronRouter(scheduler, options))",
  },
});
