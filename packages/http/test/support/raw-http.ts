import { connect, type Socket } from 'node:net';
import type { StalledStream } from './harness.js';

/**
 * HTTP/1.1 by hand, for what `fetch` cannot send or will not leave alone: an absolute-form request
 * line, and a client that never reads its answer.
 */

export function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

export function requestHead(
  target: string,
  port: number,
  headers: Record<string, string>,
  method = 'GET',
): string {
  const lines = [`${method} ${target} HTTP/1.1`, `Host: 127.0.0.1:${port}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\nConnection: close\r\n\r\n`;
}

/** A whole HTTP/1.1 answer read off a socket, as a `Response`. */
export function parseAnswer(raw: Buffer, method: string): Response {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, split).toString('latin1').split('\r\n');
  let body: Buffer = raw.subarray(split + 4);
  const status = Number(head[0]?.split(' ')[1]);
  const headers = new Headers();
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  if (headers.get('transfer-encoding') === 'chunked') {
    const parts: Buffer[] = [];
    for (let at = 0; ; ) {
      const end = body.indexOf('\r\n', at);
      const size = Number.parseInt(body.subarray(at, end).toString(), 16);
      if (!size) break;
      parts.push(body.subarray(end + 2, end + 2 + size));
      at = end + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  }
  const bodyless = method === 'HEAD' || [204, 304].includes(status);
  return new Response(bodyless ? null : new Uint8Array(body), { status, headers });
}

/** Send one request with a verbatim request-target and read the whole answer (the server closes). */
export async function sendRawRequest(
  port: number,
  target: string,
  headers: Record<string, string>,
  method = 'GET',
): Promise<Response> {
  const socket = await openSocket(port);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise((resolve) => socket.once('close', resolve));
  socket.write(requestHead(target, port, headers, method));
  await ended;
  return parseAnswer(Buffer.concat(chunks), method);
}

/** A GET whose socket is never read until `drain()`. */
export async function stalledRequest(
  port: number,
  target: string,
  headers: Record<string, string>,
): Promise<StalledStream> {
  const socket: Socket = await openSocket(port);
  socket.pause();
  socket.write(requestHead(target, port, headers));
  let ended: 'closed' | 'error' | null = null;
  socket.once('error', () => {
    ended ??= 'error';
  });
  socket.once('close', () => {
    ended ??= 'closed';
  });
  return {
    async drain() {
      let bytes = 0;
      socket.on('data', (chunk: Buffer) => {
        bytes += chunk.byteLength;
      });
      socket.resume();
      for (let i = 0; i < 200 && ended === null; i++) await new Promise((r) => setTimeout(r, 10));
      const outcome = ended ?? 'timeout';
      socket.destroy();
      return { bytes, ended: outcome };
    },
  };
}
