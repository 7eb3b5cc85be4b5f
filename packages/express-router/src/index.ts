export type { HttpErrorCode } from './errors.js';
export { HttpError } from './errors.js';
export {
  type ActorFn,
  type AuthorizeFn,
  type AuthorizeResult,
  allowAll,
  CRON_ACTIONS,
  type CronAction,
  type CronRouterOptions,
  cronRouterOptionsSchema,
  type ErrorReporter,
  type RateLimitsOption,
  type TenantFn,
  type TriggerLimit,
} from './options.js';
export { DEFAULT_RATE_LIMITS } from './rate-limit.js';
export { cronRouter } from './router.js';
