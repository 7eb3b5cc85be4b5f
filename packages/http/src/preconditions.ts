import type { Job } from '@cronkeeper/core';
import { HttpError } from './errors.js';

/**
 * Optimistic concurrency for job writes: a job's `ETag` is its `version`, and a write carrying
 * `If-Match` (or `version` in the body) applies only to that version, so two people editing one job
 * cannot silently overwrite each other: the later write gets a 409 and re-reads the job.
 */

/** The `ETag` header of a job as answered. */
export function etagOf(job: Pick<Job, 'version'>): Record<string, string> {
  return { etag: `"${job.version}"` };
}

function badPrecondition(message: string): HttpError {
  return new HttpError(400, 'VALIDATION', `headers.if-match: ${message}`, {
    issues: [{ in: 'headers', path: 'if-match', message }],
  });
}

/**
 * The version a write expects, from `If-Match` (`"3"`, `W/"3"`, `3`; `*` means any) and the body's
 * `version`; undefined when neither names one. Both given and different is a 400.
 */
export function expectedVersion(request: Request, bodyVersion: number | undefined): number | undefined {
  const header = request.headers.get('if-match')?.trim();
  if (header === undefined || header === '' || header === '*') return bodyVersion;
  const match = /^(?:W\/)?"?(\d{1,15})"?$/.exec(header);
  if (!match) throw badPrecondition('must be the ETag of the job as read, e.g. "3"');
  const version = Number(match[1]);
  // A job's first version is 1: "0" is no ETag this API answered, and is refused as a header.
  if (version < 1)
    throw badPrecondition('must be the ETag of the job as read, e.g. "3" (versions start at 1)');
  if (bodyVersion !== undefined && bodyVersion !== version)
    throw badPrecondition(`names version ${version} but the body's version is ${bodyVersion}`);
  return version;
}

/** `If-Match` on a job that does not exist: the job read was deleted since (409, nothing created). */
export function requiresExisting(request: Request, name: string): void {
  if (request.headers.has('if-match'))
    throw new HttpError(
      409,
      'CONFLICT',
      `job "${name}" does not exist any more (If-Match names a version of it); read the jobs again`,
    );
}

/**
 * `If-Match` on a write that does not honour it (delete, pause, resume, trigger…): a 400, never a
 * write applied whatever the version, so a client relying on the precondition learns it holds
 * only on `PUT` and `PATCH /jobs/:name`.
 */
export function refuseUnhonouredPrecondition(request: Request): void {
  if (request.headers.has('if-match'))
    throw badPrecondition(
      `is honoured on PUT and PATCH /jobs/:name only; ${request.method} here would apply whatever the version, so send it without If-Match`,
    );
}
