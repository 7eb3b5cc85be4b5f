import { createScheduler, type Logger } from '@cronkeeper/core';
import { chaosExecutors } from './executors.js';
import { recordingExecutors } from './ledger.js';
import { openStore, type StoreKind } from './stores.js';

/**
 * One scheduler process of the reliability suite: a host app as a user would write it, on the
 * store named by the environment, started until the harness says stop (or kills it). It reports
 * to the harness over the IPC channel only what the stored history cannot tell: that it is ready,
 * which runs it recovered (to know whose clock wrote their finish time), and what it logged.
 * Its executors append what they did to the executor ledger (see ledger.ts).
 */

export type WorkerMessage =
  | { type: 'ready'; instanceId: string }
  | { type: 'recovered'; runId: string; at: number }
  | { type: 'started'; runId: string; job: string | null; scheduledFor: number | null; at: number }
  | { type: 'log'; level: 'warn' | 'error'; message: string }
  | { type: 'stopped'; stopMs: number };

export type HarnessMessage = { type: 'stop'; graceMs: number };

const env = process.env;
const kind = env.CHAOS_STORE as StoreKind;
const namespace = env.CHAOS_NAMESPACE as string;
const instanceId = env.CHAOS_INSTANCE as string;
const offsetMs = Number(env.CHAOS_CLOCK_OFFSET_MS ?? 0);

function send(message: WorkerMessage): void {
  process.send?.(message);
}

function text(obj: object | string, msg?: string): string {
  return msg ?? (typeof obj === 'string' ? obj : JSON.stringify(obj));
}

const logger: Logger = {
  debug: () => {},
  info: () => {},
  warn: (obj, msg) => send({ type: 'log', level: 'warn', message: text(obj, msg) }),
  error: (obj, msg) => send({ type: 'log', level: 'error', message: text(obj, msg) }),
};

const opened = await openStore(kind, {
  ...(env.CHAOS_URL ? { url: env.CHAOS_URL } : {}),
  namespace,
  name: env.CHAOS_CONNECTION_NAME as string,
  onConnectionError: (error) =>
    send({ type: 'log', level: 'warn', message: `connection error: ${error.message}` }),
});

const scheduler = createScheduler({
  store: opened.store,
  instanceId,
  logger,
  maintenanceJobs: false,
  lease: Number(env.CHAOS_LEASE_MS ?? 3000),
  pollInterval: Number(env.CHAOS_POLL_MS ?? 500),
  concurrency: Number(env.CHAOS_CONCURRENCY ?? 20),
  executors: recordingExecutors(chaosExecutors(), env.CHAOS_LEDGER as string, instanceId),
  // A process whose clock is off: the harness starts some workers skewed on purpose.
  clock: { now: () => new Date(Date.now() + offsetMs) },
});

scheduler.on('run:failed', ({ run, origin }) => {
  if (origin === instanceId && run.error?.code === 'stale')
    send({ type: 'recovered', runId: run.id, at: Date.now() });
});

// Every execution this process begins, so the harness can count executions per slot even when the
// store lost the record of one (a Redis failover drops writes its replica had not received yet).
scheduler.on('run:started', ({ run, origin }) => {
  if (origin !== instanceId) return;
  send({
    type: 'started',
    runId: run.id,
    job: run.jobName,
    scheduledFor: run.trigger === 'schedule' ? (run.scheduledFor?.getTime() ?? null) : null,
    at: Date.now(),
  });
});

process.on('message', (message: HarnessMessage) => {
  if (message.type !== 'stop') return;
  const began = Date.now();
  scheduler
    .stop({ grace: message.graceMs })
    .then(() => opened.close())
    .then(() => {
      send({ type: 'stopped', stopMs: Date.now() - began });
      process.disconnect?.();
      process.exit(0);
    })
    .catch((error: unknown) => {
      send({ type: 'log', level: 'error', message: `stop failed: ${String(error)}` });
      process.exit(1);
    });
});

// If the harness dies, do not linger as an orphan holding leases.
process.on('disconnect', () => process.exit(0));

await scheduler.start();
send({ type: 'ready', instanceId });
