import type { Clock, Duration } from '@cronkeeper/core';
import { z } from 'zod';

/** What a request wants to do; `authorize(request, action)` decides per action. */
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
  | 'openapi:read'
  | 'audit:read'
  | 'jobs:backfill'
  | 'health:read'
  | 'metrics:read';

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
  'audit:read',
  'jobs:backfill',
  'health:read',
  'metrics:read',
];

/**
 * The verdict of `authorize`: `true` lets the request through; `false` or `'forbidden'` answers 403
 * (known caller, not allowed); `'unauthenticated'` answers 401 (no valid session or token).
 */
export type AuthorizeResult = boolean | 'unauthenticated' | 'forbidden';

/** Decides whether `req` may perform `action`; may be async. A throw is answered 500 and reported. */
export type AuthorizeFn<Req = Request> = (
  req: Req,
  action: CronAction,
) => AuthorizeResult | Promise<AuthorizeResult>;

/** The tenant a request is confined to, or null/undefined for an operator who sees every tenant. */
export type TenantFn<Req = Request> = (
  req: Req,
) => string | null | undefined | Promise<string | null | undefined>;

/** Who is making the request, recorded as `triggeredBy` / `createdBy` / `updatedBy`. */
export type ActorFn<Req = Request> = (
  req: Req,
) => string | null | undefined | Promise<string | null | undefined>;

/** Called with every error answered 5xx (a store outage, a bug), for the host's logs. */
export type ErrorReporter<Req = Request> = (error: unknown, req: Req) => void;

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
  /** Per tenant, across its manual triggers and near-term one-offs (global runs share one). `false` turns it off. @default { limit: 10, window: '1m' } */
  total?: TriggerLimit | false;
}

/** Settings of `GET /events` (server-sent events). */
export interface EventsOption {
  /** Interval of the comment lines that keep proxies from closing an idle stream. @default '15s' */
  heartbeat?: Duration;
  /** Bytes an event stream may hold for a client that does not read; beyond it the stream is closed (the browser reconnects). @default '4mb' */
  maxBuffered?: number | string;
  /** Open event streams in all, per handler; more are answered 429. @default 1000 */
  maxStreams?: number;
  /** Open event streams per caller (same tenant and actor), per handler; more are answered 429. @default 10 */
  maxStreamsPerCaller?: number;
  /** Open event streams per confined tenant, all its actors together, per handler; more are answered 429. @default 50 */
  maxStreamsPerTenant?: number;
  /** How often each open stream's request is put to `authorize`, `tenant` and `actor` again; a stream no longer allowed, or now another tenant or actor, is closed. @default '30s' */
  reauthorize?: Duration;
}

/**
 * Options shared by every way of mounting the API (`createCronHandler`, `cronRouter`). `Req` is what
 * the callbacks receive: the web `Request` for the fetch handler, the framework's request in an adapter.
 */
export interface CronApiOptions<Req = Request> {
  /** Required. Decides each request; pass `allowAll` to run the API open on purpose. */
  authorize: AuthorizeFn<Req>;
  /** Confines a request to one tenant. @default () => null (every request is an operator) */
  tenant?: TenantFn<Req>;
  /** Names the caller for audit fields. @default () => null */
  actor?: ActorFn<Req>;
  /** Manual-trigger limits, counted in the store so they hold across instances; `false` disables. @default { perJob: { limit: 1, window: '30s' }, total: { limit: 10, window: '1m' } } */
  rateLimits?: RateLimitsOption | false;
  /** Serve the dashboard page at `GET /` of the mount path. @default false */
  dashboard?: boolean;
  /** Largest JSON body accepted; larger ones are answered 413. @default '100kb' */
  bodyLimit?: number | string;
  /** Server-sent events settings. @default { heartbeat: '15s', maxBuffered: '4mb', maxStreams: 1000, maxStreamsPerCaller: 10, maxStreamsPerTenant: 50, reauthorize: '30s' } */
  events?: EventsOption;
  /** Origins (`https://admin.example.com`) besides the API's own that may send changes, for a dashboard served from another origin. @default [] */
  trustedOrigins?: string[];
  /**
   * Host names the API answers for (`'.example.com'` takes its subdomains too), or `true` for any;
   * other hosts get 403, which stops DNS rebinding. @default any host; with `authorize: allowAll`,
   * only IP addresses, `localhost`, `*.localhost` and single-label names
   */
  allowedHosts?: string[] | true;
  /** Told about every 5xx answer (store outage, bug); the client only sees a generic message. @default logs with console.error */
  onError?: ErrorReporter<Req>;
  /** Time source of the rate-limit windows; pass the scheduler's `manualClock` in tests. @default the system clock */
  clock?: Clock;
}

/** Options of `createCronHandler(scheduler, options)`. */
export interface CronHandlerOptions extends CronApiOptions<Request> {
  /** The path prefix the handler is mounted under (e.g. `'/api/cron'`), stripped before routing. @default '' */
  basePath?: string;
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

const bytesSchema = z.union([
  z.number().int().positive(),
  z.string().regex(/^\d+\s*(b|kb|mb)$/i, "use bytes or text such as '100kb', '1mb'"),
]);

const limitSchema = z.strictObject({
  limit: z.number().int().min(1).max(1_000_000),
  window: durationSchema,
});

const originSchema = z
  .string()
  .regex(/^https?:\/\/[^/?#\s]+$/, "must be an origin such as 'https://admin.example.com' (no path)");

/** The zod schema `createCronHandler` parses its options with; exported for hosts that build options from config. */
export const cronHandlerOptionsSchema = z.strictObject({
  authorize: z.custom<AuthorizeFn<never>>((value) => typeof value === 'function', {
    message:
      'is required: pass a function (req, action) => true | false | "unauthenticated", or `allowAll` to run the API open on purpose',
  }),
  tenant: fn<TenantFn<never>>('(req) => tenantId | null').optional(),
  actor: fn<ActorFn<never>>('(req) => name | null').optional(),
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
  bodyLimit: bytesSchema.optional(),
  events: z
    .strictObject({
      heartbeat: durationSchema.optional(),
      maxBuffered: bytesSchema.optional(),
      maxStreams: z.number().int().min(1).max(1_000_000).optional(),
      maxStreamsPerCaller: z.number().int().min(1).max(1_000_000).optional(),
      maxStreamsPerTenant: z.number().int().min(1).max(1_000_000).optional(),
      reauthorize: durationSchema.optional(),
    })
    .optional(),
  trustedOrigins: z.array(originSchema).max(100).optional(),
  allowedHosts: z
    .union([
      z.literal(true),
      z
        .array(
          z
            .string()
            .max(253)
            .regex(
              /^\.?(?:[A-Za-z0-9-]+\.)*[A-Za-z0-9-]+$|^\[[0-9A-Fa-f:.]+\]$/,
              "must be a host name such as 'admin.example.com' (no scheme or port)",
            ),
        )
        .max(100),
    ])
    .optional(),
  onError: fn<ErrorReporter<never>>('(error, req) => void').optional(),
  clock: z
    .custom<Clock>(
      (value) => typeof value === 'object' && value !== null && typeof (value as Clock).now === 'function',
      { message: 'must be a clock: { now(): Date }' },
    )
    .optional(),
  basePath: z
    .string()
    .max(500)
    .regex(/^(?:\/[^/?#\s]+)*\/?$/, "must be a path such as '/api/cron' (no host, query or double slash)")
    .optional(),
});

/** `authorize` for an API open to anyone who can reach it: only for local tools and tests. */
export const allowAll = (_req: unknown, _action: CronAction): true => true;

/** Bytes in `'100kb'`-style text (1 kb = 1024 bytes, as body-parser counts). */
export function toBytes(value: number | string): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+)\s*(b|kb|mb)$/i.exec(value);
  const amount = Number(match?.[1] ?? Number.NaN);
  const unit = (match?.[2] ?? 'b').toLowerCase();
  return amount * (unit === 'mb' ? 1024 * 1024 : unit === 'kb' ? 1024 : 1);
}
