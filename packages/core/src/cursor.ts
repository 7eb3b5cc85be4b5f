import { ValidationError } from './errors.js';

/** Where a page of runs stopped: the last run's `createdAt` (ms) and `id`, the listing's sort key. */
export interface RunCursor {
  createdAt: number;
  id: string;
}

const INVALID = 'is not a cursor returned by a previous page';

/** The instants a cursor may name: those of `DATE_RANGE`, 1970-01-01 to 9999-12-31 (UTC). */
const MIN_MS = 0;
const MAX_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Ids every store hands out (UUIDs, hex, counters): anything else is forged. */
const ID = /^[A-Za-z0-9._:-]{1,200}$/;

/**
 * Encode a page position for `listRuns`: opaque to callers (base64url of `[createdAt, id]`).
 * Shared by every store so cursors look and validate the same whatever the backend.
 */
export function encodeRunCursor(position: RunCursor): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id]), 'utf8').toString('base64url');
}

/** The position in `cursor`, or a `ValidationError` on the `cursor` field when it is not one of ours. */
export function decodeRunCursor(cursor: string): RunCursor {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (error) {
    throw new ValidationError([{ path: 'cursor', message: INVALID }], { cause: error });
  }
  if (
    !Array.isArray(decoded) ||
    decoded.length !== 2 ||
    !Number.isInteger(decoded[0]) ||
    (decoded[0] as number) < MIN_MS ||
    (decoded[0] as number) > MAX_MS ||
    typeof decoded[1] !== 'string' ||
    !ID.test(decoded[1])
  ) {
    throw ValidationError.field('cursor', INVALID);
  }
  return { createdAt: decoded[0] as number, id: decoded[1] };
}

/** Where a page of audit entries stopped: the last entry's `at` (ms) and `id`. */
export interface AuditCursor {
  at: number;
  id: string;
}

/** Encode a page position for `listAudit` (the same opaque form as run cursors). */
export function encodeAuditCursor(position: AuditCursor): string {
  return encodeRunCursor({ createdAt: position.at, id: position.id });
}

/** The position in an audit `cursor`, or a `ValidationError` on the `cursor` field. */
export function decodeAuditCursor(cursor: string): AuditCursor {
  const { createdAt, id } = decodeRunCursor(cursor);
  return { at: createdAt, id };
}
