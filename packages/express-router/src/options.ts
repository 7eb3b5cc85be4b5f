import type { Clock, Duration } from '@cronkeeper/core';
import type { Request } from 'express';
import { z } from 'zod';

/** What a request wants to do; `authorize(req, action)` decides per action. */
export type CronAction =
  | 'jobs:read'
  | 'jobs:write'
  | 'jobs:trigger'
  | 'executors:read'
  | 'executors:trigger'
  | 'runs:read'
  | 'runs:schedule'
  | 'runs:cancel'
  | 'stats:read'
  | 'events:read'
  | 'scheduler:admin'
  | 'dashboard:view'
  | 'openapi:read';

/** Every action, in the order the docs list them. */
export const CRON_ACTIONS: readonly CronAction[] = [
  'jobs:read',
  'jobs:write',
  'jobs:trigger',
  'executors:read',
  'executors:trigger',
  'runs:read',
  'runs:schedule',
  'runs:cancel',
  'stats:read',
  'events:read',
  'scheduler:admin',
  'dashboard:view',
  'openapi:read',
];

/**
 * The verdict of `authorize`: `true` lets the request through; `false` or `'forbidden'` answers 403
 * (known caller, not allowed); `'unauthenticated'` answers 401 (no valid session or token).
 */
export type AuthorizeResult = boolean | 'unauthenticated' | 'forbidden';

/** Decides whether `req` may perform `action`; may be async. A throw is answered 500 and reported. */
export type AuthorizeFn = (req: Request, action: CronAction) => AuthorizeResult | Promise<AuthorizeResult>;

/** The tenant a request is confined to, or null/undefined for an operator who sees every tenant. */
export type TenantFn = (req: Request) => string | null | undefined | Promise<string | null | undefined>;

/** Who is making the request, recorded as `triggeredBy` / `createdBy` / `updatedBy`. */
export type ActorFn = (req: Request) => string | null | undefined | Promise<string | null | undefined>;

/** Called with every error answered 5xx (a store outage, a bug), for the host's logs. */
export type ErrorReporter = (error: unknown, req: Request) => void;

/** One sliding-window limit on manual triggers. */
export interface TriggerLimit {
  /** Triggers allowed in the window. */
  limit: number;
  /** Window length: milliseconds or `'30s'`-style text. */
  window: Duration;
}

/** Limits on manual triggers (`POST /jobs/:name/trigger`, `POST /executors/:name/trigger`). */
export interface RateLimitsOption {
  /** Per job (or per executor run alone), per tenant. `false` turns it off. @default { limit: 1, window: '30s' } */
  perJob?: TriggerLimit | false;
  /** Across every manual trigger of the scheduler. `false` turns it off. @default { limit: 10, window: '1m' } */
  total?: TriggerLimit | false;
}

/** Options of `cronRouter(scheduler, options)`. */
export interface CronRouterOptions {
  /** Required. Decides each request; pass `allowAll` to run the API open on purpose. */
  authorize: AuthorizeFn;
  /** Confines a request to one tenant. @default () => null (every request is an operator) */
  tenant?: TenantFn;
  /** Names the caller for audit fields. @default () => null */
  actor?: ActorFn;
  /** Manual-trigger limits, counted in the store so they hold across instances; `false` disables. @default { perJob: { limit: 1, window: '30s' }, total: { limit: 10, window: '1m' } } */
  rateLimits?: RateLimitsOption | false;
  /** Serve the dashboard page at `GET /` of the mount path. @default false */
  dashboard?: boolean;
  /** Largest JSON body accepted; larger ones are answered 413. @default '100kb' */
  bodyLimit?: number | string;
  /** Server-sent events settings. @default { heartbeat: '15s' } */
  events?: { heartbeat?: Duration };
  /** Told about every 5xx answer (store outage, bug); the client only sees a generic message. @default logs with console.error */
  onError?: ErrorReporter;
  /** Time source of the rate-limit windows; pass the scheduler's `manualClock` in tests. @default the system clock */
  clock?: Clock;
}

const fn = <T>(what: string) =>
  z.custom<T>((value) => typeof value === 'function', { message: `must be a function ${what}` });

const durationSchema = z.union([
  z.number().finite().nonnegative(),
  z
    .string()
    .max(32)
    .regex(/^\d+(?:\.\d+)?\s*(ms|s|m|h|d|w)$/, "use milliseconds or a string like '30s', '5m'"),
]);

const limitSchema = z.strictObject({
  limit: z.number().int().min(1).max(1_000_000),
  window: durationSchema,
});

/** The zod schema `cronRouter` parses its options with; exported for hosts that build options from config. */
export const cronRouterOptionsSchema = z.strictObject({
  authorize: z.custom<AuthorizeFn>((value) => typeof value === 'function', {
    message:
      'is required: pass a function (req, action) => true | false | "unauthenticated", or `allowAll` to run the API open on purpose',
  }),
  tenant: fn<TenantFn>('(req) => tenantId | null').optional(),
  actor: fn<ActorFn>('(req) => name | null').optional(),
  rateLimits: z
    .union([
      z.literal(false),
      z.strictObject({
        perJob: z.union([limitSchema, z.literal(false)]).optional(),
        total: z.union([limitSchema, z.literal(false)]).optional(),
      }),
    ])
    .optional(),
  dashboard: z.boolean().optional(),
  bodyLimit: z
    .union([z.number().int().positive(), z.string().regex(/^\d+\s*(b|kb|mb)$/i, "use bytes or '100kb'")])
    .optional(),
  events: z.strictObject({ heartbeat: durationSchema.optional() }).optional(),
  onError: fn<ErrorReporter>('(error, req) => void').optional(),
  clock: z
    .custom<Clock>(
      (value) => typeof value === 'object' && value !== null && typeof (value as Clock).now === 'function',
      { message: 'must be a clock: { now(): Date }' },
    )
    .optional(),
});

/** `authorize` for an API open to anyone who can reach it: only for local tools and tests. */
export const allowAll: AuthorizeFn = () => true;
