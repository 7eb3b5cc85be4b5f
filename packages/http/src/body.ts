import { HttpError } from './errors.js';

const MAX_JSON_DEPTH = 32;

function tooLarge(limit: number): HttpError {
  return new HttpError(413, 'PAYLOAD_TOO_LARGE', `the request body is larger than ${limit} bytes`, {
    limit,
  });
}

/** The body's bytes, refused with a 413 as soon as they pass `limit` (never buffered beyond it). */
async function readLimited(request: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        throw tooLarge(limit);
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** Values one body may hold at most when walked (see {@link assertShallow}). */
const MAX_JSON_NODES = 1_000_000;

/**
 * Deeply nested JSON is refused (a 400) before any recursive validator or serialiser sees it: the
 * walk has no recursion, so no depth overflows the stack. Also for a body a host framework parsed,
 * which may share objects (a DAG expands exponentially when walked or serialised: the node budget
 * bounds that) or hold accessors that throw (the request's 400, not the app's 500).
 */
export function assertShallow(value: unknown): void {
  const stack: Array<[unknown, number]> = [[value, 0]];
  let nodes = 0;
  while (stack.length > 0) {
    const [item, depth] = stack.pop() as [unknown, number];
    if (typeof item !== 'object' || item === null) continue;
    if (depth >= MAX_JSON_DEPTH)
      throw new HttpError(
        400,
        'VALIDATION',
        `the request body is nested deeper than ${MAX_JSON_DEPTH} levels`,
      );
    nodes += 1;
    if (nodes > MAX_JSON_NODES)
      throw new HttpError(400, 'VALIDATION', `the request body holds more than ${MAX_JSON_NODES} values`);
    let children: unknown[];
    try {
      children = Object.values(item);
    } catch (error) {
      throw invalidJson(
        `a value of the body cannot be read: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    for (const child of children) stack.push([child, depth + 1]);
  }
}

function invalidJson(reason: string): HttpError {
  return new HttpError(400, 'INVALID_JSON', 'the request body is not valid JSON', {
    reason: reason.slice(0, 200),
  });
}

/**
 * The JSON body of a change (its media type already checked): UTF-8 text, at most `limit` bytes, an
 * object or array no deeper than 32 levels. An empty body reads as `{}`.
 */
export async function readJsonBody(request: Request, limit: number): Promise<unknown> {
  const bytes = await readLimited(request, limit);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalidJson('the body is not UTF-8');
  }
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalidJson(error instanceof Error ? error.message : String(error));
  }
  if (typeof value !== 'object' || value === null)
    throw invalidJson('the body must be a JSON object (or array), not a bare value');
  assertShallow(value);
  return value;
}
