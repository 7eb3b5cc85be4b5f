import type { Scheduler } from '@cronkeeper/core';
import type { Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import { HttpError, sendError, toHttpError, zodFailure } from './errors.js';
import type { ActorFn, AuthorizeFn, CronAction, ErrorReporter, TenantFn } from './options.js';
import type { TriggerLimiter } from './rate-limit.js';

/** HTTP methods the router answers. */
export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** What every route handler receives: validated input and who is asking. */
export interface RouteContext<P, Q, B> {
  req: Request;
  res: Response;
  params: P;
  query: Q;
  body: B;
  /** The tenant the request is confined to; null for an operator who sees every tenant. */
  tenant: string | null;
  /** Who is asking, for audit fields. */
  actor: string | null;
}

/** A success answer with a status other than 200. */
export class Reply {
  constructor(
    readonly status: number,
    readonly data: unknown,
  ) {}
}

/** One route: method, path, permission, schemas (also used for OpenAPI) and handler. */
export interface RouteDef<P = unknown, Q = unknown, B = unknown> {
  method: Method;
  /** Express path relative to the mount point, e.g. `/jobs/:name`. */
  path: string;
  action: CronAction;
  /** OpenAPI tag. */
  tag: string;
  summary: string;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** Shape of `data` on success, for OpenAPI. @default any JSON */
  response?: z.ZodType;
  /** Success status for OpenAPI (a handler may still return a `Reply`). @default 200 */
  status?: number;
  /** The handler writes the response itself (streams, HTML). */
  raw?: { contentType: string };
  /** Data of the answer, or a `Reply`; ignored for raw routes. */
  handle(ctx: RouteContext<P, Q, B>): Promise<unknown>;
}

/** Declare a route with its input types inferred from its schemas. */
export function defineRoute<P = Record<string, never>, Q = Record<string, never>, B = undefined>(
  def: RouteDef<P, Q, B>,
): RouteDef {
  return def as unknown as RouteDef;
}

/** What the dispatcher needs from the router's options. */
export interface Dispatch {
  scheduler: Scheduler;
  limiter: TriggerLimiter;
  authorize: AuthorizeFn;
  tenant: TenantFn;
  actor: ActorFn;
  onError: ErrorReporter | undefined;
  /** Reads a JSON body (body-parser), run only after the request is authorized. */
  parseBody: RequestHandler;
}

function validate<T>(where: 'body' | 'query' | 'params', schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw zodFailure(where, result.error);
  return result.data;
}

function runMiddleware(handler: RequestHandler, req: Request, res: Response): Promise<void> {
  return new Promise((resolve, reject) => {
    handler(req, res, (error?: unknown) => (error ? reject(error) : resolve()));
  });
}

const emptyQuery = z.strictObject({});

const MAX_JSON_DEPTH = 32;

/** Deeply nested JSON is refused before any recursive validator sees it (no stack overflow). */
function assertShallow(value: unknown): void {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop() as [unknown, number];
    if (typeof item !== 'object' || item === null) continue;
    if (depth >= MAX_JSON_DEPTH)
      throw new HttpError(
        400,
        'VALIDATION',
        `the request body is nested deeper than ${MAX_JSON_DEPTH} levels`,
      );
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
}

/** An Express handler running `def`: authorize, read and validate input, call, answer `{ data }`. */
export function handlerFor(def: RouteDef, dispatch: Dispatch): RequestHandler {
  return (req, res) => {
    void (async () => {
      try {
        const verdict = await dispatch.authorize(req, def.action);
        if (verdict === 'unauthenticated')
          throw new HttpError(401, 'UNAUTHENTICATED', 'sign in to use this API');
        if (verdict !== true) throw new HttpError(403, 'FORBIDDEN', `not allowed to ${def.action}`);
        const tenant = await dispatch.tenant(req);
        if (tenant === '' || (tenant != null && typeof tenant !== 'string'))
          throw new HttpError(403, 'FORBIDDEN', 'the request has no valid tenant');
        let body: unknown;
        if (def.body) {
          await runMiddleware(dispatch.parseBody, req, res);
          body = req.body === undefined || isEmptyObject(req.body) ? {} : req.body;
          assertShallow(body);
          body = validate('body', def.body, body);
        }
        const ctx = {
          req,
          res,
          params: def.params ? validate('params', def.params, { ...req.params }) : {},
          query: validate('query', def.query ?? emptyQuery, { ...(req.query as object) }),
          body,
          tenant: tenant ?? null,
          actor: (await dispatch.actor(req)) ?? null,
        };
        const result = await def.handle(ctx);
        if (def.raw) return;
        const reply = result instanceof Reply ? result : new Reply(def.status ?? 200, result);
        res.status(reply.status).json({ data: reply.data });
      } catch (error) {
        const { error: answer, internal } = toHttpError(error);
        if (internal) dispatch.onError?.(error, req);
        sendError(res, answer);
      }
    })();
  };
}

function isEmptyObject(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0
  );
}
