import { ValidationError } from './errors.js';

/** Where a page of runs stopped: the last run's `createdAt` (ms) and `id`, the listing's sort key. */
export interface RunCursor {
  createdAt: number;
  id: string;
}

const INVALID = 'is not a cursor returned by a previous page';

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
    typeof decoded[1] !== 'string' ||
    decoded[1].length === 0 ||
    decoded[1].length > 200
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
