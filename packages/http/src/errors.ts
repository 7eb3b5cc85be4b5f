import {
  ConflictError,
  CronkeeperError,
  NotFoundError,
  RateLimitError,
  StoreError,
  ValidationError,
} from '@cronkeeper/core';
import type { z } from 'zod';

/** Codes the router answers with besides core's (`VALIDATION`, `NOT_FOUND`, `CONFLICT`, `RATE_LIMITED`, `STORE`). */
export type HttpErrorCode =
  | 'VALIDATION'
  | 'INVALID_JSON'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'STORE'
  | 'INTERNAL';

/** An error answered as `{ error: { code, message, details } }` with `status`. */
export class HttpError extends Error {
  /** HTTP status. */
  readonly status: number;
  /** Stable code clients branch on. */
  readonly code: HttpErrorCode;
  /** Extra facts (offending fields, the running run, the wait). */
  readonly details: Record<string, unknown>;
  /** Headers to send with it (`Retry-After`, `Allow`). */
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: HttpErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.headers = headers;
  }
}

/** A 400 listing every issue zod found in `where` (`body`, `query` or `params`). */
export function zodFailure(where: 'body' | 'query' | 'params', error: z.ZodError): HttpError {
  const issues = error.issues.map((issue) => {
    // Unknown keys are reported on the parent; name each key so the client knows what to drop.
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const path = [...issue.path.map(String)];
    return {
      in: where,
      path: [...path, ...(keys.length === 1 ? keys : [])].join('.'),
      message:
        keys.length > 0 ? `unknown field${keys.length > 1 ? 's' : ''}: ${keys.join(', ')}` : issue.message,
    };
  });
  return new HttpError(400, 'VALIDATION', issuesText(issues), { issues });
}

/** The issues as one message: `body.timezone: …; query.limit: …` (the part and path when known). */
function issuesText(issues: readonly { in?: string; path: string; message: string }[]): string {
  return issues
    .map((issue) => {
      const where = [issue.in, issue.path].filter(Boolean).join('.');
      return where ? `${where}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

/**
 * Core's refusal of what a route passed it from the request body, told as the router's own checks
 * tell a body field (`in: 'body'`, `body.` in the message), so a client reads one shape whichever
 * layer refused. An issue whose first segment is not a field of the body stays as core said it.
 */
export function bodyFailure(error: ValidationError, body: unknown): HttpError {
  const fields = typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {};
  const issues = error.issues.map((issue) =>
    Object.hasOwn(fields, issue.path.split('.')[0] ?? '')
      ? { in: 'body' as const, path: issue.path, message: issue.message }
      : { path: issue.path, message: issue.message },
  );
  return new HttpError(400, 'VALIDATION', issuesText(issues), { issues });
}

/** The HTTP answer for any thrown value; `internal` is true when it deserves a report (5xx). */
export function toHttpError(error: unknown): { error: HttpError; internal: boolean } {
  if (error instanceof HttpError) return { error, internal: error.status >= 500 };
  if (error instanceof ValidationError)
    return {
      error: new HttpError(400, 'VALIDATION', error.message, {
        issues: error.issues.map((issue) => ({ path: issue.path, message: issue.message })),
      }),
      internal: false,
    };
  if (error instanceof NotFoundError)
    return {
      error: new HttpError(404, 'NOT_FOUND', error.message, { resource: error.resource }),
      internal: false,
    };
  if (error instanceof ConflictError)
    return {
      error: new HttpError(409, 'CONFLICT', error.message, {
        ...(error.runningRunId ? { runningRunId: error.runningRunId } : {}),
      }),
      internal: false,
    };
  if (error instanceof RateLimitError)
    return { error: rateLimited(error.message, error.retryAfterMs), internal: false };
  if (error instanceof StoreError)
    return {
      error: new HttpError(503, 'STORE', 'the scheduler store is unavailable; try again shortly'),
      internal: true,
    };
  if (error instanceof CronkeeperError)
    return { error: new HttpError(400, 'VALIDATION', error.message), internal: false };
  return { error: new HttpError(500, 'INTERNAL', 'internal error'), internal: true };
}

/** A 429 with `Retry-After` in whole seconds (at least 1). */
export function rateLimited(message: string, retryAfterMs: number): HttpError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new HttpError(429, 'RATE_LIMITED', message, { retryAfterMs }, { 'Retry-After': String(seconds) });
}

/** Headers of every JSON answer: no MIME sniffing, never cached (answers depend on who asks). */
const JSON_HEADERS: Record<string, string> = {
  'content-type': 'application/json; charset=utf-8',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

/** A JSON answer with the headers every API answer carries. */
export function jsonResponse(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
  text: string = JSON.stringify(body),
): Response {
  return new Response(text, { status, headers: { ...JSON_HEADERS, ...headers } });
}

/** `error` as the JSON error envelope. */
export function errorResponse(error: HttpError): Response {
  return jsonResponse(
    error.status,
    { error: { code: error.code, message: error.message, details: error.details } },
    error.headers,
  );
}
