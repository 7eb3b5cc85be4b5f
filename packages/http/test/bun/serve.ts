/**
 * Run by Bun (see ../bun.test.ts): the handler served by `Bun.serve` on a free port, on the memory
 * store. Prints `{ "port": … }` once listening; stops when stdin closes.
 */
import { memoryStore } from '@cronkeeper/adapter-memory';
import { createScheduler, defineExecutor } from '@cronkeeper/core';
import { allowAll, createCronHandler } from '../../src/index.js';

// Bun's own global, typed here so the workspace type-check needs no Bun types.
declare const Bun: {
  serve(options: { port: number; hostname: string; fetch: (request: Request) => Promise<Response> }): {
    port: number;
    stop(force?: boolean): void;
  };
  stdin: { text(): Promise<string> };
};

const scheduler = createScheduler({
  store: memoryStore(),
  logger: false,
  executors: { ping: defineExecutor({ description: 'Answers pong', run: () => 'pong' }) },
});
const handle = createCronHandler(scheduler, {
  basePath: '/api/cron',
  authorize: allowAll,
  actor: (request) => request.headers.get('x-user'),
  dashboard: true,
});
const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: handle });
console.log(JSON.stringify({ port: server.port, runtime: `bun ${process.versions.bun}` }));
await Bun.stdin.text();
server.stop(true);
await scheduler.stop({ grace: '1s' });
