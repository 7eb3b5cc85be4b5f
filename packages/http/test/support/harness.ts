import { memoryStore } from '@cronkeeper/adapter-memory';
import { createScheduler, defineExecutor, type Scheduler, type Store } from '@cronkeeper/core';
import { type ManualClock, manualClock } from '@cronkeeper/core/testing';
import { z } from 'zod';
import type { CronAction, CronApiOptions } from '../../src/index.js';

/**
 * What the shared cases run against: the fetch handler called with `Request` objects, or the
 * Express adapter over real HTTP. A case sees only HTTP (requests in, `Response`s out) and the
 * scheduler behind it, so one table of cases holds both to the same behaviour.
 */

/** The request as the cases' `authorize` / `tenant` / `actor` see it, whatever the adapter's request type. */
export interface RequestView {
  header(name: string): string | undefined;
}

/** Options a case may set; callbacks receive a `RequestView`. */
export type CaseOptions = Partial<CronApiOptions<RequestView>>;

/** Releases every run of the `slow` executor that is waiting. */
export interface Gate {
  release(): void;
}

export interface CallOptions {
  body?: unknown;
  /** Raw body text (sent as is). */
  raw?: string;
  /** `x-user`; null sends no user (unauthenticated). @default 'alice' */
  user?: string | null;
  /** `x-role`. @default 'admin' */
  role?: 'admin' | 'viewer';
  /** `x-tenant`; absent for an operator. */
  tenant?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
  json: any;
  text: string;
}

/** An open `GET /events` stream that collects events and comment lines. */
export interface EventStream {
  response: Response;
  // biome-ignore lint/suspicious/noExplicitAny: event payloads are read as plain JSON
  events: Array<{ event: string; data: any }>;
  comments: string[];
  until(check: () => boolean): Promise<void>;
  close(): Promise<void>;
}

/** A `GET` whose client never reads the answer; `drain()` then reads what reaches it, until the server ends it. */
export interface StalledStream {
  drain(): Promise<{ bytes: number; ended: 'closed' | 'error' | 'timeout' }>;
}

/** The transport a target provides. */
export interface Transport {
  /** Send a request to `path` under the mount point (`/jobs`); redirects are not followed. */
  send(path: string, init: RequestInit): Promise<Response>;
  /**
   * Send a request whose request-target is `target` verbatim (e.g. an absolute-form
   * `http://evil.example/api/cron`), as a hand-written request line would.
   */
  sendRaw(target: string, headers: Record<string, string>, method?: string): Promise<Response>;
  /** Open `path` with a client that never reads (over HTTP: a socket that is never read). */
  stall(path: string, headers: Record<string, string>): Promise<StalledStream>;
  close(): Promise<void>;
}

export interface Harness {
  /** `fetch` or `express`. */
  target: string;
  /** The origin the API is served at, as a same-origin page would send it in `Origin`. */
  origin: string;
  scheduler: Scheduler;
  store: Store;
  clock: ManualClock;
  gate: Gate;
  /** Scheduler listeners added and not yet removed since the harness started. */
  listeners(): number;
  /** A request with a JSON body and the test's identity headers. */
  call(method: string, path: string, options?: CallOptions): Promise<Answer>;
  /** The raw `Response` of a request (streams, pages). */
  send(path: string, init?: RequestInit): Promise<Response>;
  sendRaw: Transport['sendRaw'];
  stall: Transport['stall'];
  listen(headers?: Record<string, string>, query?: string): Promise<EventStream>;
  close(): Promise<void>;
}

/** Share a store and clock between harnesses (two instances), or start the scheduler's loop. */
export interface Shared {
  store?: Store;
  clock?: ManualClock;
  start?: boolean;
}

/** Something the cases run against. */
export interface Target {
  name: string;
  /** A fresh harness; every harness started is closed after each case. */
  start(options?: CaseOptions, shared?: Shared): Promise<Harness>;
}

const READ_ACTIONS: readonly CronAction[] = [
  'jobs:read',
  'executors:read',
  'runs:read',
  'stats:read',
  'events:read',
  'dashboard:view',
  'openapi:read',
];

/** Authorization as a host would write it: no user → 401, viewers only read, admins do everything. */
export const testAuthorize: NonNullable<CaseOptions['authorize']> = (req, action) => {
  const user = req.header('x-user');
  if (!user) return 'unauthenticated';
  if (req.header('x-role') === 'viewer') return READ_ACTIONS.includes(action);
  return true;
};

/** The options every harness starts from; a case's own options replace them. */
export function defaultOptions(clock: ManualClock): CronApiOptions<RequestView> {
  return {
    authorize: testAuthorize,
    tenant: (req) => req.header('x-tenant') ?? null,
    actor: (req) => req.header('x-user') ?? null,
    clock,
    onError: () => {},
  };
}

/** Turn case options (on `RequestView`) into an adapter's options (on its own request type). */
export function adaptOptions<Req>(
  options: CronApiOptions<RequestView>,
  view: (req: Req) => RequestView,
): CronApiOptions<Req> {
  const { authorize, tenant, actor, onError, ...rest } = options;
  return {
    ...rest,
    authorize: (req, action) => authorize(view(req), action),
    ...(tenant ? { tenant: (req: Req) => tenant(view(req)) } : {}),
    ...(actor ? { actor: (req: Req) => actor(view(req)) } : {}),
    ...(onError ? { onError: (error: unknown, req: Req) => onError(error, view(req)) } : {}),
  };
}

/** The scheduler behind every harness: the memory store, a manual clock and three executors. */
export function testScheduler(shared: Shared = {}) {
  const clock = shared.clock ?? manualClock('2026-03-29T10:00:00Z');
  const store = shared.store ?? memoryStore();
  let waiting: Array<() => void> = [];
  const gate: Gate = {
    release() {
      for (const resolve of waiting) resolve();
      waiting = [];
    },
  };
  const scheduler = createScheduler({
    store,
    clock,
    logger: false,
    maintenanceJobs: true,
    executors: {
      sync: defineExecutor({
        description: 'Synchronises invoices',
        params: z.object({ batchSize: z.number().int().max(50).optional() }),
        estimatedDuration: '5s',
        run: (ctx) => ({ synced: ctx.params.batchSize ?? 10 }),
      }),
      slow: defineExecutor({
        description: 'Waits for the test to release it',
        run: (ctx) =>
          new Promise<void>((resolve, reject) => {
            waiting.push(resolve);
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
          }),
      }),
      broken: defineExecutor({
        run: () => {
          throw new Error('upstream answered 503');
        },
      }),
    },
  });
  // Count listeners the API adds and removes (leaks show up as a count that does not return to 0).
  let active = 0;
  const on = scheduler.on.bind(scheduler);
  const off = scheduler.off.bind(scheduler);
  scheduler.on = ((event, listener) => {
    active++;
    return on(event, listener);
  }) as typeof scheduler.on;
  scheduler.off = ((event, listener) => {
    active--;
    return off(event, listener);
  }) as typeof scheduler.off;
  return { scheduler, store, clock, gate, listeners: () => active };
}

/** Read an event stream's body into events and comment lines. */
function collect(response: Response, controller: AbortController): EventStream {
  // biome-ignore lint/suspicious/noExplicitAny: event payloads are read as plain JSON
  const events: Array<{ event: string; data: any }> = [];
  const comments: string[] = [];
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const pump = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = block.split('\n');
          for (const line of lines) if (line.startsWith(':')) comments.push(line);
          const name = lines.find((line) => line.startsWith('event: '))?.slice(7);
          const data = lines.find((line) => line.startsWith('data: '))?.slice(6);
          if (name && data) events.push({ event: name, data: JSON.parse(data) });
          end = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // aborted by the test
    }
  })();
  return {
    response,
    events,
    comments,
    async until(check) {
      for (let i = 0; i < 300 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
      if (!check()) throw new Error(`not seen; events: ${events.map((e) => e.event).join(', ')}`);
    },
    async close() {
      controller.abort();
      await reader.cancel().catch(() => {});
      await pump;
    },
  };
}

/** A harness from a target's transport and the scheduler it serves. */
export function makeHarness(
  target: string,
  origin: string,
  parts: ReturnType<typeof testScheduler>,
  transport: Transport,
): Harness {
  const call: Harness['call'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    const user = opts.user === undefined ? 'alice' : opts.user;
    if (user !== null) headers['x-user'] = user;
    headers['x-role'] = opts.role ?? 'admin';
    if (opts.tenant !== undefined) headers['x-tenant'] = opts.tenant;
    let body: string | undefined = opts.raw;
    if (opts.body !== undefined) body = JSON.stringify(opts.body);
    // Every change says it is JSON, as the API requires (CSRF defence), bodyless ones included.
    if (method !== 'GET' && method !== 'HEAD') headers['content-type'] ??= 'application/json';
    const response = await transport.send(path, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const text = await response.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
    return { status: response.status, headers: response.headers, json, text };
  };
  return {
    target,
    origin,
    ...parts,
    call,
    send: (path, init = {}) => transport.send(path, init),
    sendRaw: (requestTarget, headers, method) => transport.sendRaw(requestTarget, headers, method),
    stall: (path, headers) => transport.stall(path, headers),
    async listen(headers = {}, query = '') {
      const controller = new AbortController();
      const response = await transport.send(`/events${query}`, {
        headers: { 'x-user': 'alice', ...headers },
        signal: controller.signal,
      });
      return collect(response, controller);
    },
    async close() {
      parts.gate.release();
      await transport.close();
      await parts.scheduler.stop({ grace: '1s' });
    },
  };
}

/** A job definition on the `sync` executor. */
export function syncJob(name: string, extra: Record<string, unknown> = {}) {
  return { name, schedule: '0 3 * * *', executor: 'sync', ...extra };
}

/** Poll `check` every 10 ms, up to 2 s. */
export async function waitFor(check: () => boolean | Promise<boolean>, what = 'condition'): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${what} not reached`);
}

/** A target that remembers its harnesses so the runner can close them after each case. */
export interface TrackedTarget extends Target {
  closeAll(): Promise<void>;
}

export function defineTarget(
  name: string,
  start: (options: CaseOptions, shared: Shared) => Promise<Harness>,
): TrackedTarget {
  let open: Harness[] = [];
  return {
    name,
    async start(options = {}, shared = {}) {
      const harness = await start(options, shared);
      open.push(harness);
      return harness;
    },
    async closeAll() {
      const closing = open;
      open = [];
      await Promise.all(closing.map((harness) => harness.close()));
    },
  };
}
