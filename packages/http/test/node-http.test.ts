import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { memoryStore } from '@cronkeeper/adapter-memory';
import { createScheduler, defineExecutor } from '@cronkeeper/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowAll, createCronHandler } from '../src/index.js';

// The bridge docs/http.md gives for Node's own http module, kept word for word: this test is what
// proves the recipe works (bodies, streamed responses, a client that leaves an event stream).
function nodeListener(handle: (request: Request) => Promise<Response>) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const left = new AbortController();
    res.once('close', () => left.abort()); // ends an event stream when the client goes away
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const request = new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, {
      method: req.method,
      headers: req.headers as Record<string, string>,
      body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : null,
      signal: left.signal,
      duplex: 'half',
    } as RequestInit);
    const response = await handle(request);
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    res.writeHead(response.status, headers);
    if (!response.body) return void res.end();
    await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), res).catch(
      () => {}, // the client left mid-stream
    );
  };
}

const scheduler = createScheduler({
  store: memoryStore(),
  logger: false,
  executors: { noop: defineExecutor({ run: () => ({ ok: true }) }) },
});
let server: Server;
let api = '';

beforeAll(async () => {
  const handle = createCronHandler(scheduler, { basePath: '/api/cron', authorize: allowAll });
  server = createServer(nodeListener(handle));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/cron`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await scheduler.stop();
});

describe("the handler on Node's own http module, through the documented bridge", () => {
  it('reads JSON bodies and answers with status, headers and body', async () => {
    const created = await fetch(`${api}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ping', schedule: 'hourly', executor: 'noop' }),
    });
    expect(created.status).toBe(201);
    expect(((await created.json()) as { data: { name: string } }).data.name).toBe('ping');
    const triggered = await fetch(`${api}/jobs/ping/trigger`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(triggered.status).toBe(202);
    const again = await fetch(`${api}/jobs/ping/trigger`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(again.status).toBe(409);
  });

  it('keeps the refusals of the handler: a form post is 415, a cross-site one 403', async () => {
    const form = await fetch(`${api}/jobs/ping/trigger`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{}',
    });
    expect(form.status).toBe(415);
    const crossSite = await fetch(`${api}/jobs/ping/trigger`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
      body: '{}',
    });
    expect(crossSite.status).toBe(403);
  });

  it('streams server-sent events and lets the client leave', async () => {
    const left = new AbortController();
    const response = await fetch(`${api}/events`, { signal: left.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await scheduler.trigger({ executor: 'noop' });
    let seen = '';
    while (!seen.includes('run:')) seen += new TextDecoder().decode((await reader.read()).value);
    expect(seen).toContain('event: run:');
    left.abort();
    // The server is still healthy after the client left mid-stream.
    expect((await fetch(`${api}/executors`)).status).toBe(200);
  });
});
