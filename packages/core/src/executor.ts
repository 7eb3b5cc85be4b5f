import type { z } from 'zod';
import type { Duration } from './duration.js';
import type { Job, JsonObject, Run, RunTrigger } from './types.js';

/** Retry policy as written by users: durations as ms or strings such as `'30s'`. */
export interface RetryInput {
  /** Extra attempts after the first (limit 2 → at most 3 runs). */
  limit: number;
  /** Wait between attempts. @default { type: 'fixed', delay: '1s' } */
  backoff?: { type: 'fixed' | 'exponential'; delay: Duration; max?: Duration | null };
}

/** What an executor receives when it runs. */
export interface ExecutorContext<P = JsonObject> {
  /** Parameters: executor defaults < job params < task params < run params, validated by the schema. */
  params: P;
  /** The run being executed. */
  run: {
    id: string;
    trigger: RunTrigger;
    attempt: number;
    scheduledFor: Date | null;
    triggeredBy: string | null;
  };
  /** The job, when the run belongs to one. */
  job: Pick<Job, 'id' | 'name' | 'tenantId' | 'schedule' | 'timezone' | 'metadata'> | null;
  /** Tenant of the run; null for global. */
  tenantId: string | null;
  /** Aborts on timeout, cancel or shutdown; pass it to fetch, database calls, loops. */
  signal: AbortSignal;
  /** Lines kept on the run (capped) and sent to the scheduler's logger. */
  log: {
    debug(message: string): void;
    info(message: string): void;
    warn(message: string): void;
    error(message: string): void;
  };
  /** Extend the run's lease now (long steps between natural heartbeats). */
  heartbeat(): Promise<void>;
  /** Record progress (0..100) with an optional note; saved with the next heartbeat. */
  progress(percent: number, note?: string): void;
}

/**
 * A named unit of work registered in code; jobs and runs refer to it by name. `P` is what `run`
 * receives (the schema's output), `I` what callers give (the schema's input, e.g. with defaults
 * optional), which typed schedulers check `params` against.
 */
export interface Executor<P = JsonObject, I = P> {
  /** Shown in the executor registry and dashboards. */
  description: string | null;
  /** Validates (and may transform) the merged parameters; null accepts any JSON object. */
  params: z.ZodType<P, I> | null;
  /** Default parameters, the lowest layer of the merge. */
  defaults: JsonObject;
  /** Abort the run after this many ms; null for no timeout. */
  timeoutMs: number | null;
  /** Shown in the registry so people know how long "run now" takes, ms. */
  estimatedDurationMs: number | null;
  /** Retry policy used when the job sets none. */
  retry: RetryInput | null;
  /** The work; may return a promise. Its (resolved) value is kept as the run's result, as JSON. */
  run(ctx: ExecutorContext<P>): unknown;
}

/** Input of {@link defineExecutor}; `P` and `I` as in {@link Executor}. */
export interface ExecutorDefinition<P = JsonObject, I = P> {
  /** Shown in the registry. */
  description?: string;
  /** zod schema of the parameters. */
  params?: z.ZodType<P, I>;
  /** Default parameters. */
  defaults?: JsonObject;
  /** Per-run timeout. */
  timeout?: Duration;
  /** Expected duration, for the registry. */
  estimatedDuration?: Duration;
  /** Retry policy when the job sets none. */
  retry?: RetryInput;
  /** The work. */
  run(ctx: ExecutorContext<P>): unknown;
}

/** A registered executor as listed by `scheduler.executors()`. */
export interface ExecutorInfo {
  /** Registry name. */
  name: string;
  description: string | null;
  estimatedDurationMs: number | null;
  timeoutMs: number | null;
  /** JSON Schema of the params, derived from the zod schema; null when any object is accepted. */
  paramsSchema: Record<string, unknown> | null;
  /** True for Cronkeeper's own maintenance executors. */
  builtIn: boolean;
}

/** Summary of a run handed to the logger and events. */
export type RunSummary = Pick<Run, 'id' | 'jobName' | 'executor' | 'trigger' | 'status' | 'tenantId'>;
