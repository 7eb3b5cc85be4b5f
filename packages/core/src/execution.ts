import type { SchedulerContext } from './context.js';
import { ValidationError } from './errors.js';
import type { ExecutorContext } from './executor.js';
import { LazyAbort } from './lazy-abort.js';
import { buildRetry } from './run-factory.js';
import { isStorableText, toStorableText } from './storable.js';
import type { NewRun } from './store.js';
import { setLongTimeout } from './timers.js';
import type {
  Job,
  JsonObject,
  JsonValue,
  RetryPolicy,
  Run,
  RunError,
  RunLogLine,
  RunProgress,
} from './types.js';
import { parse } from './validation.js';

/** Why a run's signal aborted; becomes the run's error. */
export class RunAbort extends Error {
  constructor(
    readonly code: 'timeout' | 'cancelled' | 'shutdown' | 'lease_lost',
    message: string,
  ) {
    super(message);
    this.name = 'RunAbort';
  }
}

/** A failure decided by the scheduler rather than thrown by an executor. */
class RunFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A worker gives a run up once no claim or renewal of its lease has succeeded for this share of
 * the lease, counted on this process's monotonic clock from the reading the store based the lease
 * on: the executor's signal aborts (`lease_lost`) before the lease can lapse for anyone. Recovery
 * (see `Engine.recover`) waits a whole lease of its own observation before it takes a run over, so
 * the rest of the lease is the margin for the abort to land, whatever the clocks of the two
 * instances say.
 */
export const LEASE_HOLD_SHARE = 0.9;

// Failures that a retry cannot fix: retrying them only repeats the same error.
const NOT_RETRIED = new Set(['cancelled', 'invalid_params', 'unknown_executor', 'lease_lost']);

/** How a running run can be stopped from outside (local cancel, shutdown). */
export type AbortHandle = (reason: RunAbort) => void;

/** Handles on a run executing here: abort it, or heartbeat now (to see a cancel request at once). */
export interface RunControls {
  abort: AbortHandle;
  /** Heartbeat now; `cancelledBy` names who asked for a cancel the store reports, if known. */
  renew(cancelledBy?: string | null): Promise<void>;
}

/** Inputs of {@link executeRun} beyond the run itself. */
export interface ExecuteOptions {
  /** The run's job, if it has one (for `ctx.job` and its retry policy). */
  job: Job | null;
  /** Retry policy for this run (the job's, else the first executor's), if any. */
  retry: RetryPolicy | null;
  /** How long an aborted executor may take to settle before the run is finished without it. */
  abortGraceMs: number;
  /**
   * `performance.now()` read with the clock reading the claim sent (the store's lease starts at
   * that reading): the run is held for {@link LEASE_HOLD_SHARE} of a lease from here until a
   * renewal succeeds.
   */
  heldSince: number;
  /** Receives the run's controls once it starts, and null when it settles. */
  onControls(controls: RunControls | null): void;
}

/**
 * Merge parameters (executor defaults < task params < run params) and validate them with the
 * executor's schema. Used at execution and, earlier, when a manual or one-off run is created.
 */
export function resolveParams(
  ctx: SchedulerContext,
  executorName: string,
  taskParams: JsonObject,
  runParams: JsonObject,
  path: string,
): unknown {
  const executor = ctx.registry.get(executorName);
  if (!executor)
    throw new RunFailure(
      'unknown_executor',
      // The run's workerId names the instance for operators; the message reaches tenants too.
      `executor "${executorName}" is not registered on the instance that ran this run; register it on every instance`,
    );
  const merged = { ...executor.defaults, ...taskParams, ...runParams };
  return executor.params ? parse(executor.params, merged, path) : merged;
}

function toJson(value: unknown): JsonValue | null {
  if (value === undefined) return null;
  // A result is data the host reads back: altering it silently would be worse than refusing it,
  // so what JSON cannot hold (a cycle, a BigInt, a function or symbol) fails the run instead of
  // being stored as some text of it (a function's text would even show its source).
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new RunFailure(
      'invalid_result',
      // The thrower's text (a toJSON or getter of the executor's) is quoted short: it may be long
      // or hold characters no store can keep.
      `the result cannot be stored as JSON (${String(error instanceof Error ? error.message : error)
        .split('\n')[0]
        ?.slice(0, 200)}); return JSON data: objects, arrays, strings, numbers, booleans or null`,
    );
  }
  if (text === undefined)
    throw new RunFailure(
      'invalid_result',
      `the result is a ${typeof value}, which cannot be stored as JSON; return JSON data: objects, arrays, strings, numbers, booleans or null`,
    );
  const json = JSON.parse(text) as JsonValue;
  if (!storableJson(json))
    throw new RunFailure(
      'invalid_result',
      'the result contains U+0000 (NUL) or an unpaired surrogate, which cannot be stored; encode binary data (e.g. as base64) before returning it',
    );
  return json;
}

function storableJson(value: JsonValue): boolean {
  if (typeof value === 'string') return isStorableText(value);
  if (value === null || typeof value !== 'object') return true;
  if (Array.isArray(value)) return value.every(storableJson);
  return Object.entries(value).every(([key, field]) => isStorableText(key) && storableJson(field));
}

function errorOf(error: unknown, abort: LazyAbort): RunError {
  if (abort.aborted && abort.reason instanceof RunAbort)
    return { code: abort.reason.code, message: abort.reason.message };
  // Every message is made storable: one a store refused would fail the finish of the whole batch.
  try {
    if (error instanceof RunFailure) return { code: error.code, message: toStorableText(error.message) };
    if (error instanceof ValidationError)
      return { code: 'invalid_params', message: toStorableText(error.message) };
    if (error instanceof Error) return { code: 'error', message: toStorableText(errorText(error)) };
  } catch {
    // `instanceof` itself throws on a revoked Proxy.
  }
  return { code: 'error', message: toStorableText(textOf(error) ?? UNREADABLE) };
}

const UNREADABLE = 'a value that cannot be shown as text was thrown';

/**
 * What anything thrown reads as, or null when it cannot be read: a getter or `toString` that
 * throws, a Proxy, an object without a prototype. Reading it must not throw, or the run would
 * never be finished and would end as `stale` a lease later, its real error lost.
 */
function textOf(value: unknown): string | null {
  try {
    return String(value);
  } catch {
    return null;
  }
}

/** An Error's message as text, whatever its `message` holds. */
function errorText(error: Error): string {
  let message: unknown;
  let name: unknown;
  try {
    message = error.message;
    name = error.name;
  } catch {
    return 'an error whose message cannot be read was thrown';
  }
  if (typeof message === 'string' && message !== '') return message;
  if (message !== undefined && message !== null && message !== '') {
    if (typeof message === 'object') {
      try {
        return JSON.stringify(message) ?? textOf(message) ?? 'error';
      } catch {
        return textOf(message) ?? UNREADABLE;
      }
    }
    return textOf(message) ?? 'error';
  }
  return typeof name === 'string' && name !== '' ? name : 'Error';
}

/** Settle with `work`, or reject with the abort reason once `abort` fires and `graceMs` passes. */
function settleWithin<T>(work: Promise<T>, abort: LazyAbort, graceMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let graceTimer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => {
      graceTimer = setTimeout(() => reject(abort.reason), graceMs);
    };
    if (abort.aborted) onAbort();
    const stopListening = abort.onAbort(onAbort);
    const done = () => {
      clearTimeout(graceTimer);
      stopListening();
    };
    work.then(
      (value) => {
        done();
        // Work that outlived its abort does not count as a success: the run was already stopped.
        if (abort.aborted) reject(abort.reason);
        else resolve(value);
      },
      (error) => {
        done();
        reject(error);
      },
    );
  });
}

/**
 * Execute a claimed run: its tasks in order, with heartbeats, timeout, cancel and shutdown, then
 * finish it (fenced) with its retry in the same store step. Returns the finished run, or null if
 * this worker lost the run (its lease lapsed and another instance recovered it).
 */
export async function executeRun(
  ctx: SchedulerContext,
  run: Run,
  options: ExecuteOptions,
): Promise<Run | null> {
  const { clock, store, logger } = ctx;
  const fields = { runId: run.id, trigger: run.trigger, job: run.jobName, executor: run.executor };
  const label = run.jobName ?? run.executor;
  logger.info(fields, `Starting ${label} (run ${run.id}, attempt ${run.attempt})`);
  ctx.emitRun('run:started', run);

  const runAbort = new LazyAbort();
  const abort: AbortHandle = (reason) => runAbort.abort(reason);

  const logs: RunLogLine[] = [...run.logs];
  let droppedLines = 0;
  let progress: RunProgress | null = run.progress;
  // Heartbeats store progress while the run goes on; the finish stores the last one reported, which
  // a run shorter than a heartbeat (or reporting after its last one) would otherwise lose.
  let progressReported = false;
  const log = (level: RunLogLine['level'], message: string) => {
    if (logs.length < ctx.maxLogLines)
      logs.push({ at: clock.now(), level, message: toStorableText(String(message).slice(0, 4000)) });
    else droppedLines++;
    logger[level === 'debug' ? 'debug' : level](fields, `${label}: ${message}`);
  };

  // Until when this worker may keep executing without a successful renewal (monotonic ms).
  const holdMs = Math.floor(ctx.leaseMs * LEASE_HOLD_SHARE);
  let heldUntil = options.heldSince + holdMs;
  let holdTimer: ReturnType<typeof setTimeout> | undefined;
  const watchHold = () => {
    clearTimeout(holdTimer);
    holdTimer = setTimeout(
      () => {
        if (performance.now() < heldUntil) return watchHold();
        abort(
          new RunAbort(
            'lease_lost',
            `no lease renewal succeeded for ${holdMs} ms: stopped before the lease could lapse and the run be recovered`,
          ),
        );
      },
      Math.max(0, heldUntil - performance.now()),
    );
  };
  watchHold();

  const renew = async (cancelledBy?: string | null) => {
    const sentAt = performance.now();
    const outcome = await store.renewLease({
      runId: run.id,
      workerId: ctx.instanceId,
      now: clock.now(),
      leaseMs: ctx.leaseMs,
      progress,
      logs,
    });
    if (!outcome.ok) {
      abort(new RunAbort('lease_lost', 'this worker lost the run (lease lapsed or run recovered)'));
      return;
    }
    // A renewal answered after the hold ran out does not bring the run back: it was given up.
    if (!runAbort.aborted && sentAt + holdMs > heldUntil) {
      heldUntil = sentAt + holdMs;
      watchHold();
    }
    if (outcome.cancelRequested)
      abort(new RunAbort('cancelled', cancelledBy ? `cancelled by ${cancelledBy}` : 'cancelled on request'));
  };
  options.onControls({ abort, renew });
  const heartbeat = setInterval(
    () => {
      renew().catch((error) => ctx.reportError('renewLease', error));
    },
    Math.max(10, Math.floor(ctx.leaseMs / 3)),
  );
  const cancelRunTimeout =
    run.timeoutMs === null
      ? undefined
      : setLongTimeout(
          () => abort(new RunAbort('timeout', `timed out after ${run.timeoutMs} ms`)),
          run.timeoutMs,
        );

  // Below, only a task's own fields are assigned, never changed inside: a copy of each task keeps
  // the claimed run as it was, at a fiftieth of what structuredClone costs a run.
  const tasks = run.tasks.map((task) => ({ ...task }));
  let failure: RunError | null = null;
  let result: JsonValue | null = null;
  try {
    for (const [index, task] of tasks.entries()) {
      if (task.status === 'skipped' && task.error === null) continue;
      if (failure) {
        Object.assign(
          task,
          failure.code === 'cancelled'
            ? {
                status: 'cancelled',
                error: { code: 'cancelled', message: 'the run was cancelled before this task started' },
              }
            : { status: 'skipped', error: { code: 'previous_failed', message: 'an earlier task failed' } },
        );
        continue;
      }
      task.status = 'running';
      task.startedAt = clock.now();
      let cancelTaskTimeout: (() => void) | undefined;
      const executor = ctx.registry.get(task.executor);
      const taskTimeoutMs = run.timeoutMs === null ? (executor?.timeoutMs ?? null) : null;
      // Only a task with its own timeout needs an abort of its own (following the run's); the
      // others share the run's.
      const own = taskTimeoutMs === null ? null : runAbort.child();
      const taskAbort = own ? own.abort : runAbort;
      try {
        const params = resolveParams(ctx, task.executor, task.params, run.params, `tasks.${index}.params`);
        if (taskTimeoutMs !== null)
          cancelTaskTimeout = setLongTimeout(
            () => taskAbort.abort(new RunAbort('timeout', `timed out after ${taskTimeoutMs} ms`)),
            taskTimeoutMs,
          );
        const context: ExecutorContext<unknown> = {
          params,
          run: {
            id: run.id,
            trigger: run.trigger,
            attempt: run.attempt,
            scheduledFor: run.scheduledFor,
            triggeredBy: run.triggeredBy,
          },
          job: options.job
            ? {
                id: options.job.id,
                name: options.job.name,
                tenantId: options.job.tenantId,
                schedule: options.job.schedule,
                timezone: options.job.timezone,
                metadata: options.job.metadata,
              }
            : null,
          tenantId: run.tenantId,
          get signal() {
            return taskAbort.signal;
          },
          log: {
            debug: (message) => log('debug', message),
            info: (message) => log('info', message),
            warn: (message) => log('warn', message),
            error: (message) => log('error', message),
          },
          heartbeat: () => renew(),
          progress: (percent, note) => {
            // Stored with the run like a log line: the same cap and the same repair of text the
            // stores cannot hold (a NUL would otherwise fail the heartbeat and the finish).
            const text =
              note === undefined || note === null ? null : toStorableText(String(note).slice(0, 4000));
            progress = { percent: Math.min(100, Math.max(0, Number(percent) || 0)), note: text };
            progressReported = true;
          },
        };
        // Aborted before it began (the hold ran out while the claim was slow, a cancel or a
        // shutdown): the executor is not started at all.
        if (taskAbort.aborted) throw taskAbort.reason;
        const value = await settleWithin(
          Promise.resolve().then(() => (executor as NonNullable<typeof executor>).run(context)),
          taskAbort,
          options.abortGraceMs,
        );
        task.result = toJson(value);
        task.status = 'succeeded';
        result = task.result;
      } catch (error) {
        failure = errorOf(error, taskAbort);
        task.status = failure.code === 'cancelled' ? 'cancelled' : 'failed';
        task.error = failure;
      } finally {
        cancelTaskTimeout?.();
        own?.detach();
        task.finishedAt = clock.now();
      }
    }
  } finally {
    clearInterval(heartbeat);
    cancelRunTimeout?.();
    clearTimeout(holdTimer);
    options.onControls(null);
  }
  if (droppedLines > 0)
    logs.push({ at: clock.now(), level: 'warn', message: `${droppedLines} more log lines were dropped` });

  const error = failure as RunError | null;
  const status = error === null ? 'succeeded' : error.code === 'cancelled' ? 'cancelled' : 'failed';
  let followUp: NewRun | null = null;
  if (
    status === 'failed' &&
    error &&
    !NOT_RETRIED.has(error.code) &&
    options.retry &&
    run.attempt < run.maxAttempts
  ) {
    followUp = buildRetry(run, options.retry, clock.now());
  }
  if (error?.code === 'lease_lost') {
    logger.warn(fields, `${label}: lease lost; another instance owns the outcome of run ${run.id}`);
    return null;
  }
  const finished = await ctx.finishRun({
    runId: run.id,
    fence: { workerId: ctx.instanceId },
    now: clock.now(),
    status,
    result,
    error,
    tasks,
    logs,
    ...(progressReported ? { progress } : {}),
    followUp,
    ...(ctx.announceFinishesAs === undefined ? {} : { announceAs: ctx.announceFinishesAs }),
  });
  if (!finished) {
    logger.warn(fields, `${label}: run ${run.id} was recovered by another instance before it finished here`);
    return null;
  }
  if (status === 'succeeded') logger.info(fields, `✓ ${label} succeeded in ${finished.durationMs} ms`);
  else
    logger[status === 'failed' ? 'error' : 'warn'](
      fields,
      `✗ ${label} ${status}: ${error?.message}${followUp ? ` (retry ${run.attempt + 1}/${run.maxAttempts} at ${followUp.runAt.toISOString()})` : ''}`,
    );
  ctx.emitRun(
    status === 'succeeded' ? 'run:succeeded' : status === 'failed' ? 'run:failed' : 'run:cancelled',
    finished,
    { announced: ctx.announceFinishesAs !== undefined },
  );
  if (followUp) {
    ctx.publish({ type: 'wake', origin: ctx.instanceId });
    ctx.wake();
  }
  return finished;
}
