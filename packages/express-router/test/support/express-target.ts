import type { Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import express, { type Request } from 'express';
import {
  adaptOptions,
  defaultOptions,
  defineTarget,
  makeHarness,
  type RequestView,
  type StalledStream,
  testScheduler,
} from '../../../http/test/support/harness.js';
import { cronRouter } from '../../src/index.js';

export const EXPRESS_MOUNT = '/api/cron';

const view = (req: Request): RequestView => ({ header: (name) => req.get(name) });

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

function requestHead(target: string, port: number, headers: Record<string, string>, method = 'GET'): string {
  const lines = [`${method} ${target} HTTP/1.1`, `Host: 127.0.0.1:${port}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\nConnection: close\r\n\r\n`;
}

/** A whole HTTP/1.1 answer read off a socket, as a `Response`. */
function parseAnswer(raw: Buffer, method: string): Response {
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

/** The Express adapter mounted at `/api/cron` in an Express 5 app, called over real HTTP. */
export const expressTarget = defineTarget('express', async (options, shared) => {
  const parts = testScheduler(shared);
  if (shared.start) await parts.scheduler.start();
  const app = express();
  app.use(
    EXPRESS_MOUNT,
    cronRouter(parts.scheduler, adaptOptions({ ...defaultOptions(parts.clock), ...options }, view)),
  );
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const { port } = server.address() as { port: number };
  const base = `http://127.0.0.1:${port}${EXPRESS_MOUNT}`;
  return makeHarness('express', `http://127.0.0.1:${port}`, parts, {
    send: (path, init) => fetch(`${base}${path}`, { ...init, redirect: 'manual' }),
    async sendRaw(target, headers, method = 'GET') {
      const socket = await openSocket(port);
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      const ended = new Promise((resolve) => socket.once('close', resolve));
      socket.write(requestHead(target, port, headers, method));
      await ended;
      return parseAnswer(Buffer.concat(chunks), method);
    },
    async stall(path, headers) {
      const socket = await openSocket(port);
      socket.pause();
      socket.write(requestHead(`${EXPRESS_MOUNT}${path}`, port, headers));
      let ended: 'closed' | 'error' | null = null;
      socket.once('error', () => {
        ended ??= 'error';
      });
      socket.once('close', () => {
        ended ??= 'closed';
      });
      const stalled: StalledStream = {
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
      return stalled;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  });
});
