/**
 * Two instances of one host app on one PostgreSQL database. Instance a starts a slow import, which
 * takes its only slot; then a manual trigger of the `send-report` job on a is picked up by
 * instance b within milliseconds, woken by NOTIFY (both only poll once a minute). Ends by itself.
 *
 *   CRONKEEPER_PG_URL=postgres://… npm start   (in examples/postgres; see its README)
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { DATABASE_URL, SCHEMA } from './app.js';

type Message = { instance: string; type: string; runId?: string; label?: string; sinceCreated?: number };

const INSTANCE = fileURLToPath(new URL('./instance.ts', import.meta.url));
const children: ChildProcess[] = [];
const inbox: Message[] = [];
const waiters: { match: (message: Message) => boolean; resolve: (message: Message) => void }[] = [];

function receive(message: Message): void {
  inbox.push(message);
  for (const waiter of [...waiters]) {
    if (!waiter.match(message)) continue;
    waiters.splice(waiters.indexOf(waiter), 1);
    waiter.resolve(message);
  }
}

function waitFor(match: (message: Message) => boolean, what: string, timeoutMs = 20_000): Promise<Message> {
  const seen = inbox.find(match);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
    waiters.push({
      match,
      resolve: (message) => {
        clearTimeout(timer);
        resolve(message);
      },
    });
  });
}

function launch(name: string): ChildProcess {
  // The child inherits this process's loader flags (TypeScript through tsx, the source condition).
  const child = fork(INSTANCE, [name], { execArgv: process.execArgv });
  child.on('message', (message: Message) => receive(message));
  children.push(child);
  return child;
}

async function resetSchema(): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    // Only the example's own schema: a fresh start on every run.
    await client.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  } finally {
    await client.end();
  }
}

try {
  console.log(`Cronkeeper on PostgreSQL: two instances of one app share schema "${SCHEMA}"\n`);
  await resetSchema();

  const a = launch('a');
  await waitFor((m) => m.instance === 'a' && m.type === 'ready', 'instance a');
  a.send({ cmd: 'trigger', executor: 'nightlyImport' });
  await waitFor((m) => m.instance === 'a' && m.type === 'started', 'the import on a');
  console.log('    (a is now busy: its only slot runs the import)\n');

  launch('b');
  await waitFor((m) => m.instance === 'b' && m.type === 'ready', 'instance b');

  a.send({ cmd: 'trigger', job: 'send-report' });
  const { runId } = await waitFor(
    (m) => m.instance === 'a' && m.type === 'triggered' && m.label === 'send-report',
    'the trigger on a',
  );
  const started = await waitFor((m) => m.type === 'started' && m.runId === runId, 'send-report to start');
  await waitFor((m) => m.type === 'finished' && m.runId === runId, 'send-report to finish');
  await waitFor((m) => m.type === 'finished' && m.label === 'nightlyImport', 'the import to finish');

  console.log(
    `\nThe trigger on a was run by ${started.instance}, ${started.sinceCreated} ms after it was created (NOTIFY).`,
  );
  for (const child of children) child.send({ cmd: 'stop' });
  await Promise.all(children.map((child) => new Promise((resolve) => child.once('exit', resolve))));
  await resetSchema();
} catch (error) {
  for (const child of children) child.kill();
  throw error;
}
