import type { z } from 'zod';
import { HttpError } from './errors.js';
import type { CronAction } from './options.js';

/** HTTP methods the routes answer (HEAD is answered by the GET route, without a body). */
export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** What every route handler receives: validated input and who is asking. */
export interface RouteContext<P, Q, B> {
  /** The web request, for routes that answer with their own `Response` (streams, pages). */
  request: Request;
  /** The request path relative to the mount point, as received (e.g. `/` or `` for the mount root). */
  path: string;
  params: P;
  query: Q;
  body: B;
  /** The tenant the request is confined to; null for an operator who sees every tenant. */
  tenant: string | null;
  /** Who is asking, for audit fields. */
  actor: string | null;
  /**
   * Asks `authorize`, `tenant` and `actor` again about the same request: true while it is still
   * allowed this route as the same tenant and actor (a long-lived stream checks it now and then).
   */
  stillAllowed: () => Promise<boolean>;
  /** Asks `authorize` for a further action this request needs; rejects with its 401 or 403 if refused. */
  authorizeAlso: (action: CronAction) => Promise<void>;
}

/** A success answer with a status other than 200, or headers of its own. */
export class Reply {
  constructor(
    readonly status: number,
    readonly data: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

/** One route: method, path, permission, schemas (also used for OpenAPI) and handler. */
export interface RouteDef<P = unknown, Q = unknown, B = unknown> {
  method: Method;
  /** Path relative to the mount point, with `:name` parameters, e.g. `/jobs/:name`. */
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
  /** Other statuses the route answers besides the errors every route may give, for OpenAPI. */
  otherStatuses?: Record<string, string>;
  /** Headers of a successful answer, by name, for OpenAPI. */
  responseHeaders?: Record<string, string>;
  /** The handler answers with its own `Response` of this type (streams, HTML, the OpenAPI document). */
  raw?: { contentType: string };
  /** The handler honours `If-Match`; any other write carrying it is refused with a 400. */
  ifMatch?: boolean;
  /** Left out of the OpenAPI document (the dashboard page and its assets). */
  hidden?: boolean;
  /**
   * A read that holds something of the caller's while it lasts (an event stream holds one of their
   * few stream slots): refused, like a change, when a browser says another origin started it.
   */
  ownOriginOnly?: boolean;
  /** Data of the answer, a `Reply`, or (raw routes) a `Response`. */
  handle(ctx: RouteContext<P, Q, B>): Promise<unknown>;
}

/** Declare a route with its input types inferred from its schemas. */
export function defineRoute<P = Record<string, never>, Q = Record<string, never>, B = undefined>(
  def: RouteDef<P, Q, B>,
): RouteDef {
  return def as unknown as RouteDef;
}

type Segment = { literal: string } | { param: string };

interface CompiledRoute {
  def: RouteDef;
  segments: Segment[];
}

/** The outcome of matching a request line against the table. */
export type RouteMatch =
  | { kind: 'found'; route: RouteDef; params: Record<string, string> }
  | { kind: 'method'; allow: string[] }
  | { kind: 'none' };

function compile(path: string): Segment[] {
  return path
    .split('/')
    .filter((part) => part !== '')
    .map((part) => (part.startsWith(':') ? { param: part.slice(1) } : { literal: part }));
}

/**
 * The path's segments, still percent-encoded. A trailing slash is ignored (`/jobs/` is `/jobs`); an
 * empty segment elsewhere (`/jobs//trigger`) matches nothing.
 */
function segmentsOf(path: string): string[] {
  const trimmed = path.startsWith('/') ? path.slice(1) : path;
  if (trimmed === '') return [];
  const parts = trimmed.split('/');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

function decodeSegment(raw: string, name: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, 'VALIDATION', `params.${name}: is not valid percent-encoding`, {
      issues: [{ in: 'params', path: name, message: 'is not valid percent-encoding' }],
    });
  }
}

function matchSegments(route: CompiledRoute, parts: string[]): Record<string, string> | null {
  if (route.segments.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const segment = route.segments[i] as Segment;
    const part = parts[i] as string;
    if ('literal' in segment) {
      if (segment.literal !== part) return null;
    } else {
      if (part === '') return null;
      params[segment.param] = part;
    }
  }
  return params;
}

/**
 * The route table: first route in declaration order whose method and path match (so `/jobs/seed`
 * before `/jobs/:name`). A known path with another method is reported with the methods it allows.
 */
export class RouteTable {
  readonly #routes: CompiledRoute[];

  constructor(routes: readonly RouteDef[]) {
    this.#routes = routes.map((def) => ({ def, segments: compile(def.path) }));
  }

  /** Every route, in declaration order. */
  get routes(): RouteDef[] {
    return this.#routes.map((route) => route.def);
  }

  match(method: string, path: string): RouteMatch {
    const wanted = method === 'HEAD' ? 'get' : method.toLowerCase();
    const parts = segmentsOf(path);
    const allow: string[] = [];
    for (const route of this.#routes) {
      const raw = matchSegments(route, parts);
      if (raw === null) continue;
      if (route.def.method === wanted) {
        const params: Record<string, string> = {};
        for (const [name, value] of Object.entries(raw)) params[name] = decodeSegment(value, name);
        return { kind: 'found', route: route.def, params };
      }
      const upper = route.def.method.toUpperCase();
      if (!allow.includes(upper)) allow.push(upper);
    }
    return allow.length > 0 ? { kind: 'method', allow } : { kind: 'none' };
  }
}
