export {
  type AuthorizeResult,
  allowAll,
  CRON_ACTIONS,
  type CronAction,
  DEFAULT_RATE_LIMITS,
  type EventsOption,
  HttpError,
  type HttpErrorCode,
  type RateLimitsOption,
  type TriggerLimit,
} from '@cronkeeper/http';
export {
  type ActorFn,
  type AuthorizeFn,
  type CronRouterOptions,
  cronRouterOptionsSchema,
  type ErrorReporter,
  type TenantFn,
} from './options.js';
export { cronRouter } from './router.js';
