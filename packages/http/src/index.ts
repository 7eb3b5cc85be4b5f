export {
  type ApiRequest,
  type CronApi,
  createCronApi,
  cronApiOptionsSchema,
  nameApiOptions,
  parseApiOptions,
} from './api.js';
export { assertShallow } from './body.js';
export type { HttpErrorCode } from './errors.js';
export { errorResponse, HttpError } from './errors.js';
export { type CronHandler, createCronHandler } from './handler.js';
export {
  type ActorFn,
  type AuthorizeFn,
  type AuthorizeResult,
  allowAll,
  CRON_ACTIONS,
  type CronAction,
  type CronApiOptions,
  type CronHandlerOptions,
  cronHandlerOptionsSchema,
  type ErrorReporter,
  type EventsOption,
  type RateLimitsOption,
  type TenantFn,
  type TriggerLimit,
} from './options.js';
export { DEFAULT_RATE_LIMITS } from './rate-limit.js';
