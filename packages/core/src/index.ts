export type {
  CleanupStaleResult,
  Dashboard,
  JobEvent,
  JobInput,
  JobListFilter,
  JobReadOnlyFields,
  JobsApi,
  JobTaskInput,
  JobUpdate,
  LastRunView,
  Logger,
  PruneResult,
  RunDueResult,
  RunEvent,
  RunListFilter,
  RunsApi,
  ScheduleInput,
  Scheduler,
  SchedulerErrorEvent,
  SchedulerEvents,
  SchedulerOptions,
  SchedulerStats,
  TenantScope,
  TimelineDay,
  TriggerInput,
  TriggerTarget,
} from './api.js';
export { type Clock, type ManualClock, manualClock, systemClock } from './clock.js';
export { decodeRunCursor, encodeRunCursor, type RunCursor } from './cursor.js';
export { type Duration, toMs } from './duration.js';
export {
  ConflictError,
  CronkeeperError,
  type CronkeeperErrorCode,
  NotFoundError,
  RateLimitError,
  StoreError,
  ValidationError,
  type ValidationIssue,
} from './errors.js';
export type {
  Executor,
  ExecutorContext,
  ExecutorDefinition,
  ExecutorInfo,
  RetryInput,
} from './executor.js';
export { defineExecutor } from './executors.js';
export { consoleLogger } from './logger.js';
export { CLEANUP_STALE_EXECUTOR, MAINTENANCE_JOBS, PRUNE_EXECUTOR } from './maintenance.js';
export { type ParseScheduleOptions, parseSchedule, type Schedule } from './schedule.js';
export { createScheduler } from './scheduler.js';
export type {
  AdminStore,
  ClaimResult,
  ClaimRunsInput,
  CreateRunInput,
  CreateRunResult,
  ExecutorSummary,
  FinishRunInput,
  FireSlotInput,
  FireSlotResult,
  JobChange,
  JobFilter,
  JobPatch,
  NewJob,
  NewRun,
  RenewLeaseInput,
  RunCountRow,
  RunFilter,
  RunPage,
  SchedulingStore,
  Store,
  StoreCapabilities,
  StoreEvent,
  TenantIds,
} from './store.js';
export { FROZEN_JOB_FIELDS } from './store.js';
export {
  isTerminal,
  type Job,
  type JobTask,
  type JsonObject,
  type JsonValue,
  type MisfirePolicy,
  type OverlapPolicy,
  type RetryBackoff,
  type RetryPolicy,
  type Run,
  type RunError,
  type RunLogLine,
  type RunProgress,
  type RunStatus,
  type RunTask,
  type RunTrigger,
  TERMINAL_STATUSES,
} from './types.js';
