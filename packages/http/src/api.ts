import { type Scheduler, systemClock, toMs, ValidationError } from '@cronkeeper/core';
import { z } from 'zod';
import { readJsonBody } from './body.js';
import { bodyFailure, errorResponse, HttpError, jsonResponse, toHttpError, zodFailure } from './errors.js';
import { EventHub } from './event-hub.js';
import { eventRoutes } from './events.js';
import { hostGuard } from './host-guard.js';
import { openApiRoute } from './openapi.js';
import {
  allowAll,
  type CronAction,
  type CronApiOptions,
  cronHandlerOptionsSchema,
  toBytes,
} from './options.js';
import { pageRoutes } from './page.js';
import { refuseUnhonouredPrecondition } from './preconditions.js';
import { TriggerLimiter } from './rate-limit.js';
import { assertJsonRequest, assertOwnOriginRead, assertSameOrigin, isChange } from './request-guard.js';
import { adminRoutes } from './routes/admin.js';
import { jobRoutes } from './routes/jobs.js';
import { operationRoutes } from './routes/operations.js';
import { runRoutes } from './routes/runs.js';
import { triggerRoutes } from './routes/trigger.js';
import { Reply, type RouteDef, RouteTable } from './routing.js';

const SCHEDULER_METHODS = ['trigger', 'schedule', 'cancel', 'runDue', 'executors', 'on', 'off'] as const;

function assertScheduler(scheduler: unknown, caller: string): asserts scheduler is Scheduler {
  const candidate = scheduler as Record<string, unknown> | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    SCHEDULER_METHODS.some((method) => typeof candidate[method] !== 'function') ||
    typeof (candidate.jobs as Record<string, unknown> | undefined)?.list !== 'function'
  )
    throw ValidationError.field('scheduler', `${caller} needs the scheduler returned by createScheduler()`);
}

/** Who takes the options a schema parses, for the message naming an option they do not take. */
interface OptionsOwner {
  /** The function taking them, e.g. `cronRouter`. */
  caller: string;
  /** Words for keys that are options elsewhere, instead of the list of known options. */
  hints?: Readonly<Record<string, string>>;
}

const optionsOwners = new WeakMap<z.ZodType, OptionsOwner>();

/**
 * Names the function taking the options `schema` parses, so that `parseApiOptions` refuses an
 * unknown option as `createScheduler` and the stores do. An adapter calls it on its own schema.
 */
export function nameApiOptions<S extends z.ZodType>(schema: S, owner: OptionsOwner): S {
  optionsOwners.set(schema, owner);
  return schema;
}

/** Parse options with `schema` (the handler's, or an adapter's narrower one), naming every wrong field. */
export function parseApiOptions<T>(schema: z.ZodType<T>, options: unknown): T {
  const result = schema.safeParse(options ?? {});
  if (result.success) return result.data;
  const owner = optionsOwners.get(schema) ?? { caller: 'the API' };
  throw ValidationError.fromOptions(owner.caller, result.error, {
    known: schema instanceof z.ZodObject ? Object.keys(schema.shape) : [],
    ...(owner.hints ? { hints: owner.hints } : {}),
  });
}

/** One request as an adapter hands it over. */
export interface ApiRequest<Req> {
  /** The web request: method, URL, headers, body and the signal that aborts when the client leaves. */
  request: Request;
  /** What `authorize`, `tenant`, `actor` and `onError` receive (the framework's own request object). */
  source: Req;
  /** The path after the mount point: `` or `/` for the mount root, `/jobs/a`… (still percent-encoded). */
  path: string;
}

/** The API behind every adapter: one route table, one set of schemas, one error model. */
export interface CronApi<Req> {
  /** Answer one request; never rejects (failures are JSON error answers). */
  handle(input: ApiRequest<Req>): Promise<Response>;
}

const emptyQuery = z.strictObject({});

function validate<T>(where: 'body' | 'query' | 'params', schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw zodFailure(where, result.error);
  return result.data;
}

/** Query parameters as an object; a repeated name becomes an array, as Node's `querystring` reads it. */
function queryObject(search: URLSearchParams): Record<string, string | string[]> {
  // No prototype: a parameter named __proto__ is an own field (refused as unknown by name), not a
  // write to the object's prototype.
  const query: Record<string, string | string[]> = Object.create(null);
  for (const [name, value] of search) {
    const previous = query[name];
    if (previous === undefined) query[name] = value;
    else query[name] = Array.isArray(previous) ? [...previous, value] : [previous, value];
  }
  return query;
}

function unauthorized(verdict: unknown, action: string): HttpError | null {
  if (verdict === true) return null;
  if (verdict === 'unauthenticated') return new HttpError(401, 'UNAUTHENTICATED', 'sign in to use this API');
  return new HttpError(403, 'FORBIDDEN', `not allowed to ${action}`);
}

/**
 * Builds the API for an adapter: `createCronHandler` (fetch) and `cronRouter` (Express) are both this
 * plus the few lines that turn their request into an `ApiRequest`. `caller` names the adapter in
 * messages (`'createCronHandler'`).
 */
export function createCronApi<Req>(
  scheduler: Scheduler,
  options: CronApiOptions<Req>,
  caller: string,
): CronApi<Req> {
  assertScheduler(scheduler, caller);
  const clock = options.clock ?? systemClock;
  const limiter = new TriggerLimiter(scheduler, options.rateLimits, () => clock.now());
  const authorize = options.authorize;
  const tenantOf = options.tenant ?? (() => null);
  const actorOf = options.actor ?? (() => null);
  const report =
    options.onError ??
    ((error: unknown) => {
      console.error(`[cronkeeper] ${caller}: request failed:`, error);
    });
  const bodyLimit = toBytes(options.bodyLimit ?? '100kb');
  const trustedOrigins = new Set((options.trustedOrigins ?? []).map((origin) => origin.toLowerCase()));
  const assertAllowedHost = hostGuard(options.allowedHosts, options.authorize === allowAll);
  const events = options.events ?? {};
  const hub = new EventHub(scheduler, {
    heartbeatMs: Math.max(10, toMs(events.heartbeat ?? '15s', 'events.heartbeat')),
    maxBuffered: toBytes(events.maxBuffered ?? '4mb'),
    maxStreams: events.maxStreams ?? 1000,
    maxStreamsPerCaller: events.maxStreamsPerCaller ?? 10,
    maxStreamsPerTenant: events.maxStreamsPerTenant ?? 50,
    reauthorizeMs: Math.max(10, toMs(events.reauthorize ?? '30s', 'events.reauthorize')),
  });

  const routes: RouteDef[] = [
    ...(options.dashboard ? pageRoutes() : []),
    ...jobRoutes(scheduler),
    ...triggerRoutes(scheduler, limiter, clock),
    ...runRoutes(scheduler, limiter, clock),
    ...adminRoutes(scheduler),
    ...operationRoutes(scheduler, limiter),
    ...eventRoutes(hub),
  ];
  routes.push(openApiRoute(() => routes));
  const table = new RouteTable(routes);

  const answer = async ({ request, source, path }: ApiRequest<Req>): Promise<Response> => {
    assertAllowedHost?.(request);
    const match = table.match(request.method, path);
    if (match.kind === 'none')
      throw new HttpError(404, 'NOT_FOUND', `no route ${request.method} ${path.slice(0, 200) || '/'}`, {
        resource: 'route',
      });
    if (match.kind === 'method')
      throw new HttpError(
        405,
        'METHOD_NOT_ALLOWED',
        `use ${match.allow.join(', ')} on this path`,
        {},
        { Allow: match.allow.join(', ') },
      );
    const { route } = match;
    if (isChange(request.method)) {
      assertSameOrigin(request, trustedOrigins);
      assertJsonRequest(request);
    } else if (route.ownOriginOnly) {
      assertOwnOriginRead(request, trustedOrigins);
    }
    const refusalOf = async (action: CronAction) => unauthorized(await authorize(source, action), action);
    const refusal = await refusalOf(route.action);
    if (refusal) throw refusal;
    if (isChange(request.method) && !route.ifMatch) refuseUnhonouredPrecondition(request);
    const tenant = await tenantOf(source);
    if (tenant === '' || (tenant != null && typeof tenant !== 'string'))
      throw new HttpError(403, 'FORBIDDEN', 'the request has no valid tenant');
    const body = route.body
      ? validate('body', route.body, await readJsonBody(request, bodyLimit))
      : undefined;
    const url = new URL(request.url);
    const actor = (await actorOf(source)) ?? null;
    const ctx = {
      request,
      path,
      params: route.params ? validate('params', route.params, match.params) : {},
      query: validate('query', route.query ?? emptyQuery, queryObject(url.searchParams)),
      body,
      tenant: tenant ?? null,
      actor,
      stillAllowed: async () =>
        (await refusalOf(route.action)) === null &&
        ((await tenantOf(source)) ?? null) === (tenant ?? null) &&
        ((await actorOf(source)) ?? null) === actor,
      authorizeAlso: async (action: CronAction) => {
        const refused = await refusalOf(action);
        if (refused) throw refused;
      },
    };
    let result: Awaited<ReturnType<typeof route.handle>>;
    try {
      result = await route.handle(ctx);
    } catch (error) {
      throw error instanceof ValidationError && body !== undefined ? bodyFailure(error, body) : error;
    }
    if (result instanceof Response) return result;
    const reply = result instanceof Reply ? result : new Reply(route.status ?? 200, result);
    return jsonResponse(reply.status, { data: reply.data }, reply.headers);
  };

  return {
    async handle(input) {
      let response: Response;
      try {
        response = await answer(input);
      } catch (error) {
        const { error: http, internal } = toHttpError(error);
        if (internal) {
          try {
            report(error, input.source);
          } catch {
            // A failing reporter must not turn a 5xx into a crash.
          }
        }
        response = errorResponse(http);
      }
      if (input.request.method !== 'HEAD' || response.body === null) return response;
      void response.body.cancel().catch(() => {});
      return new Response(null, { status: response.status, headers: response.headers });
    },
  };
}

/** The option schema every adapter shares (the handler's, without what only the fetch handler takes). */
export const cronApiOptionsSchema = nameApiOptions(cronHandlerOptionsSchema.omit({ basePath: true }), {
  caller: 'createCronApi',
});

nameApiOptions(cronHandlerOptionsSchema, { caller: 'createCronHandler' });
