import { assertShallow, HttpError } from '@cronkeeper/http';
import type { Request as ExpressRequest, Response as ExpressResponse } from 'express';

/**
 * The Express side of the adapter: an Express request as a web `Request`, and a web `Response`
 * written back to Express with the socket's backpressure respected (a stream is read only as fast
 * as the client takes it, so the handler's bounded stream queues see a slow client).
 */

const HOST = /^[A-Za-z0-9.-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/;

/**
 * The path and query of the request line. An absolute-form request line (`GET http://other/x`)
 * gives its path only: the host the API sees is always the `Host` header's.
 */
export function pathAndQuery(raw: string): string {
  const withoutAuthority = raw.replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/, '');
  return withoutAuthority.startsWith('/') ? withoutAuthority : `/${withoutAuthority}`;
}

function headersOf(req: ExpressRequest): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    try {
      headers.append(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string);
    } catch {
      // Node accepted a header value the fetch API refuses; the API reads none of those.
    }
  }
  return headers;
}

/** Whether a body parser of the host app already read the body (`express.json()` before the router). */
function bodyAlreadyRead(req: ExpressRequest): boolean {
  return (req as { _body?: unknown })._body === true || req.readableEnded;
}

/**
 * The request body as a web stream, read only when pulled. When the API stops reading early (a
 * 413, or a refusal before the body is read) the rest is drained, not the socket destroyed, so
 * the client still receives the answer.
 */
function bodyStream(req: ExpressRequest, res: ExpressResponse): ReadableStream<Uint8Array> {
  let onData: ((chunk: Buffer) => void) | null = null;
  let done = false;
  const drain = () => {
    done = true;
    if (onData) req.off('data', onData);
    req.resume();
  };
  res.once('finish', () => {
    if (!req.complete) drain();
  });
  return new ReadableStream<Uint8Array>({
    start(controller) {
      onData = (chunk) => {
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) req.pause();
      };
      req.on('data', onData);
      req.once('end', () => {
        if (!done) controller.close();
        done = true;
      });
      req.once('error', (error) => {
        if (!done) controller.error(error);
        done = true;
      });
      req.pause();
    },
    pull() {
      req.resume();
    },
    cancel() {
      drain();
    },
  });
}

/**
 * A body the host app parsed, as JSON text for the API to read again. The depth is checked first,
 * as the API checks a body it reads itself: JSON.stringify of a body thousands of levels deep
 * overflows the stack. What cannot be written as JSON (a cycle, a BigInt from a custom parser) is
 * the request's 400 too.
 */
function reserialised(body: unknown): string {
  assertShallow(body);
  try {
    return JSON.stringify(body);
  } catch (error) {
    throw new HttpError(400, 'INVALID_JSON', 'the request body is not valid JSON', {
      reason:
        `the body parsed before the router cannot be written as JSON: ${error instanceof Error ? error.message : String(error)}`.slice(
          0,
          200,
        ),
    });
  }
}

/**
 * Bytes a host parser left (`express.raw()`, any typed array or ArrayBuffer) are the body as sent:
 * the API reads them as it reads a body itself, UTF-8 checks included. A copy, so the API's reading
 * cannot see a later change to the host's buffer.
 */
function bodyBytes(body: unknown): Uint8Array<ArrayBuffer> | null {
  if (body instanceof ArrayBuffer) return new Uint8Array(body.slice(0));
  if (ArrayBuffer.isView(body)) {
    const copy = new Uint8Array(body.byteLength);
    copy.set(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
    return copy;
  }
  return null;
}

/**
 * A string in `req.body` is either the text `express.text()` read or a JSON string that
 * `express.json({ strict: false })` decoded, and nothing tells which: reading it as JSON would
 * decode the second kind twice. The API takes only objects, so say how to mount it instead.
 */
function textBody(): HttpError {
  return new HttpError(400, 'INVALID_JSON', 'the request body is not valid JSON', {
    reason:
      'a body parser of the host app left text in req.body (express.text(), or express.json({ strict: false })): mount the router before it, or send a JSON object',
  });
}

/**
 * The request's URL. A `Host` that names no host (a port past 65535, say) is left out of it, as a
 * missing one is: the header still goes along, and the API decides about it.
 */
function urlOf(req: ExpressRequest): URL {
  const scheme = req.protocol === 'https' ? 'https' : 'http';
  const path = pathAndQuery(req.originalUrl);
  const host = req.get('host') ?? '';
  if (HOST.test(host)) {
    try {
      return new URL(`${scheme}://${host}${path}`);
    } catch {
      // Not a host after all: as if there were none.
    }
  }
  return new URL(`${scheme}://localhost${path}`);
}

/**
 * The Express request as a web `Request` whose signal aborts when the client goes away. Throws
 * `HttpError` when a body the host app parsed cannot be passed on.
 */
export function toWebRequest(req: ExpressRequest, res: ExpressResponse): Request {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  const url = urlOf(req);
  const init: RequestInit & { duplex?: 'half' } = {
    method: req.method,
    headers: headersOf(req),
    signal: controller.signal,
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    if (bodyAlreadyRead(req)) {
      const bytes = bodyBytes(req.body);
      if (bytes) init.body = bytes;
      else if (typeof req.body === 'string') throw textBody();
      else if (req.body !== undefined) init.body = reserialised(req.body);
    } else {
      init.body = bodyStream(req, res);
      init.duplex = 'half';
    }
  }
  return new Request(url, init);
}

function drained(res: ExpressResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Write `response` to `res`: a whole body at once, a stream (server-sent events) as the client reads it. */
export async function sendWebResponse(response: Response, res: ExpressResponse): Promise<void> {
  res.statusCode = response.status;
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') res.setHeader(name, value);
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);
  const body = response.body;
  if (body === null) {
    res.end();
    return;
  }
  if (res.destroyed) {
    await body.cancel().catch(() => {});
    return;
  }
  if (!response.headers.get('content-type')?.startsWith('text/event-stream')) {
    const bytes = Buffer.from(await response.arrayBuffer());
    res.setHeader('content-length', bytes.byteLength);
    res.end(bytes);
    return;
  }
  const reader = body.getReader();
  const stop = () => {
    void reader.cancel().catch(() => {});
  };
  res.once('close', stop);
  res.flushHeaders();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done || res.destroyed) break;
      const more = res.write(value);
      // Compression middleware holds small writes back unless told to flush.
      (res as unknown as { flush?: () => void }).flush?.();
      if (!more) await drained(res);
    }
    res.end();
  } catch {
    // The stream was dropped (the client stopped reading) or failed: close the connection.
    res.destroy();
  } finally {
    res.off('close', stop);
  }
}
