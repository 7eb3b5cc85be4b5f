import type {
  JobDryRun,
  JobInput,
  JobsApi,
  JobUpdate,
  ScheduleInput,
  Scheduler,
  TenantScope,
  TriggerInput,
} from './api.js';
import type { Executor, ExecutorDefinition } from './executor.js';
import type { CLEANUP_STALE_EXECUTOR, PRUNE_EXECUTOR } from './maintenance.js';
import type { Job, JsonObject, JsonValue, Run } from './types.js';

/**
 * Executors by name, as given to `createScheduler({ executors })`. Their names and parameter types
 * become the names and types `jobs.create`, `trigger` and `schedule` accept. A params schema must
 * output JSON values (what a run's params are); one that outputs e.g. a `Date` can be `register()`ed.
 */
export type ExecutorMap = Record<
  string,
  Executor<ParamsOutput, unknown> | ExecutorDefinition<ParamsOutput, unknown>
>;

/**
 * What a params schema may output: a JSON object whose optional fields may be `undefined`, as
 * zod's `.optional()` types them (apps compiled with `exactOptionalPropertyTypes` see that
 * `undefined`; it is dropped when the params are stored as JSON).
 */
type ParamsOutput = { [key: string]: JsonValue | undefined };

/** Whether `E` says nothing about names (no executors, or a `Record<string, …>`): then any name goes. */
type KnowsNoNames<E> = [keyof E] extends [never] ? true : string extends keyof E ? true : false;

/** The executor names a scheduler typed by `E` accepts: its executors' and the built-in ones. */
export type ExecutorName<E> =
  KnowsNoNames<E> extends true
    ? string
    : (keyof E & string) | typeof CLEANUP_STALE_EXECUTOR | typeof PRUNE_EXECUTOR;

/** What callers give an executor: its params schema's input type (schema-less executors take any JSON object). */
type InputOf<X> =
  X extends Executor<infer _P, infer I>
    ? I
    : X extends ExecutorDefinition<infer _P, infer I>
      ? I
      : JsonObject;

/**
 * The `params` a typed call accepts for executor `N` of `E`: the fields of its schema's input,
 * each optional, because the executor's defaults, the job's params and the run's params are merged
 * before the schema checks the whole. A field the schema takes as `unknown` takes any JSON value.
 */
export type ExecutorParams<E, N> = N extends keyof E
  ? unknown extends InputOf<E[N]>
    ? JsonObject
    : string extends keyof InputOf<E[N]>
      ? InputOf<E[N]>
      : {
          // Without `undefined`: params travel as JSON, and with exactOptionalPropertyTypes a field
          // typed `T | undefined` would keep a typed scheduler from being a `Scheduler`.
          [K in keyof InputOf<E[N]>]?: unknown extends InputOf<E[N]>[K]
            ? JsonValue
            : Exclude<InputOf<E[N]>[K], undefined>;
        }
  : JsonObject;

/** One executor of `E` with its typed params, for each name: the building block of typed inputs. */
type EachExecutor<E, Extra> = {
  [N in ExecutorName<E>]: { executor: N; params?: ExecutorParams<E, N> } & Extra;
}[ExecutorName<E>];

/** A task of a typed job: an executor name of `E`, or the executor with its typed params. */
export type TypedJobTaskInput<E> = ExecutorName<E> | EachExecutor<E, { enabled?: boolean }>;

/** Input of `jobs.create` on a scheduler typed by `E`: `executor` with its params, or `tasks`. */
export type TypedJobInput<E> = Omit<JobInput, 'executor' | 'tasks' | 'params'> &
  (
    | EachExecutor<E, { tasks?: never }>
    | { tasks: TypedJobTaskInput<E>[]; executor?: never; params?: JsonObject }
  );

/** Changes accepted by `jobs.update` on a scheduler typed by `E`. */
export type TypedJobUpdate<E> = Omit<JobUpdate, 'executor' | 'tasks' | 'params'> &
  (
    | EachExecutor<E, { tasks?: never }>
    | { tasks?: TypedJobTaskInput<E>[]; executor?: never; params?: JsonObject }
  );

/** Input of `trigger` on a scheduler typed by `E`: a job by name, or an executor of `E` with its params. */
export type TypedTriggerInput<E> = Omit<TriggerInput, 'job' | 'executor' | 'params'> &
  ({ job: string; executor?: never; params?: JsonObject } | EachExecutor<E, { job?: never }>);

/** Input of `schedule` on a scheduler typed by `E`: a job by name, or an executor of `E` with its params. */
export type TypedScheduleInput<E> = Omit<ScheduleInput, 'job' | 'executor' | 'params'> &
  ({ job: string; executor?: never; params?: JsonObject } | EachExecutor<E, { job?: never }>);

/**
 * Job administration on a scheduler typed by `E`. A whole {@link Job} as read is accepted too by
 * `create` and `update` (its executors are checked when the call runs).
 */
export interface TypedJobsApi<E> extends Omit<JobsApi, 'create' | 'update' | 'seed'> {
  /** Create a job; see {@link JobsApi.create}. */
  create(input: TypedJobInput<E>): Promise<Job>;
  /** Create a job from one read elsewhere (read-only fields ignored). */
  create(job: Job): Promise<Job>;
  /** Change a job; see {@link JobsApi.update}. */
  update(name: string, patch: TypedJobUpdate<E>, options?: TenantScope & { dryRun?: false }): Promise<Job>;
  /** Write back a job as read, edited or not; see {@link JobsApi.update}. */
  update(name: string, job: Job, options?: TenantScope & { dryRun?: false }): Promise<Job>;
  /** The job as a change would leave it, and its next instants, writing nothing; see {@link JobsApi.update}. */
  update(
    name: string,
    patch: TypedJobUpdate<E> | Job,
    options: TenantScope & { dryRun: true },
  ): Promise<JobDryRun>;
  /** A change, or its dry run when `options.dryRun` is true; see {@link JobsApi.update}. */
  update(
    name: string,
    patch: TypedJobUpdate<E> | Job,
    options?: TenantScope & { dryRun?: boolean },
  ): Promise<Job | JobDryRun>;
  /** Create the given jobs; see {@link JobsApi.seed}. */
  seed(
    inputs?: TypedJobInput<E>[],
    options?: { overwrite?: boolean },
  ): Promise<{ created: string[]; updated: string[]; unchanged: string[] }>;
}

/**
 * A scheduler created with executors: their names and params types are checked by the compiler in
 * `jobs.create`, `jobs.update` (and its dry run), `trigger` and `schedule`. Every other call
 * (`audit`, `preview`, `backfill`, `health`…) is the {@link Scheduler}'s own: jobs are named there,
 * not executors. It is a {@link Scheduler} (pass it where one is expected, or assign it to one to
 * use names the compiler cannot know). `register` returns it typed with the new executor as well.
 */
export interface TypedScheduler<E> extends Omit<Scheduler, 'jobs' | 'trigger' | 'schedule' | 'register'> {
  /** Job administration, with typed executors. */
  readonly jobs: TypedJobsApi<E>;
  /** Run now; see {@link Scheduler.trigger}. */
  trigger(input: TypedTriggerInput<E>): Promise<Run>;
  /** One-off at a future instant; see {@link Scheduler.schedule}. */
  schedule(input: TypedScheduleInput<E>): Promise<Run>;
  /** Many one-offs in one call, all or nothing; see {@link Scheduler.schedule}. */
  schedule(inputs: readonly TypedScheduleInput<E>[]): Promise<Run[]>;
  /** Add an executor; returns this scheduler, typed with it too. Rejects a name already registered. */
  register<N extends string, P, I>(
    name: N,
    executor: Executor<P, I> | ExecutorDefinition<P, I>,
  ): TypedScheduler<E & Record<N, Executor<P, I>>>;
}

/** What `createScheduler` returns for executors `E`: typed when it knows their names. */
export type SchedulerFor<E> = KnowsNoNames<E> extends true ? Scheduler : TypedScheduler<E>;

/** A job definition for the `jobs` option of a scheduler created with executors `E`. */
export type JobInputFor<E> = KnowsNoNames<E> extends true ? JobInput : TypedJobInput<E>;
