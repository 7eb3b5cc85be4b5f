import { z } from 'zod';

/**
 * zod descriptions of what the routes answer inside `{ data }`, for `GET /openapi.json`. They mirror
 * core's `Job` and `Run` records as JSON (dates as ISO strings).
 */

const date = z.string().meta({ format: 'date-time' });
const json = z.record(z.string(), z.unknown());
const runStatus = z.enum(['pending', 'running', 'succeeded', 'failed', 'cancelled', 'skipped']);
const runError = z.object({ code: z.string(), message: z.string() }).nullable();

/** A job as answered. */
export const jobResponse = z.object({
  id: z.string(),
  name: z.string(),
  tenantId: z.string().nullable(),
  description: z.string().nullable(),
  schedule: z.string(),
  timezone: z.string(),
  tasks: z.array(z.object({ executor: z.string(), enabled: z.boolean(), params: json })),
  params: json,
  enabled: z.boolean(),
  pausedNote: z.string().nullable(),
  overlap: z.enum(['skip', 'queue', 'allow']),
  misfire: z.enum(['once', 'skip', 'all']),
  catchUpLimit: z.number().int(),
  misfireGraceMs: z.number().nullable(),
  timeoutMs: z.number().nullable(),
  retry: z.object({ limit: z.number().int(), backoff: json }).nullable(),
  autoPause: z.object({ afterFailures: z.number().int() }).nullable(),
  jitterMs: z.number(),
  priority: z.number().int(),
  activeFrom: date.nullable(),
  activeUntil: date.nullable(),
  nextRunAt: date.nullable(),
  lastRunAt: date.nullable(),
  lastRunId: z.string().nullable(),
  lastStatus: runStatus.nullable(),
  lastError: z.string().nullable(),
  lastDurationMs: z.number().nullable(),
  runCount: z.number().int(),
  errorCount: z.number().int(),
  consecutiveFailures: z.number().int(),
  createdAt: date,
  createdBy: z.string().nullable(),
  updatedAt: date,
  updatedBy: z.string().nullable(),
  version: z.number().int(),
  metadata: json,
});

/** A run as answered. */
export const runResponse = z.object({
  id: z.string(),
  jobId: z.string().nullable(),
  jobName: z.string().nullable(),
  executor: z.string(),
  tenantId: z.string().nullable(),
  trigger: z.enum(['schedule', 'manual', 'once', 'retry', 'backfill']),
  status: runStatus,
  tasks: z.array(
    z.object({
      executor: z.string(),
      status: runStatus,
      params: json,
      startedAt: date.nullable(),
      finishedAt: date.nullable(),
      result: z.unknown(),
      error: runError,
    }),
  ),
  scheduledFor: date.nullable(),
  runAt: date,
  createdAt: date,
  startedAt: date.nullable(),
  finishedAt: date.nullable(),
  durationMs: z.number().nullable(),
  params: json,
  result: z.unknown(),
  error: runError,
  attempt: z.number().int(),
  maxAttempts: z.number().int(),
  parentRunId: z.string().nullable(),
  triggeredBy: z.string().nullable(),
  workerId: z.string().nullable(),
  leaseUntil: date.nullable(),
  priority: z.number().int(),
  overlap: z.enum(['skip', 'queue', 'allow']),
  concurrencyKey: z.string(),
  dedupeKey: z.string().nullable(),
  timeoutMs: z.number().int().nullable(),
  cancelRequested: z.boolean(),
  progress: z.object({ percent: z.number(), note: z.string().nullable() }).nullable(),
  logs: z.array(
    z.object({ at: date, level: z.enum(['debug', 'info', 'warn', 'error']), message: z.string() }),
  ),
});

/** A page of runs. */
export const runPageResponse = z.object({ items: z.array(runResponse), nextCursor: z.string().nullable() });

/** `POST /run-due`. */
export const runDueResponse = z.object({
  summary: z.object({
    total: z.number().int(),
    executed: z.number().int(),
    skipped: z.number().int(),
    failed: z.number().int(),
  }),
  executed: z.array(runResponse),
  failed: z.array(runResponse),
});

/** `POST /maintenance/cleanup-stale`. */
export const cleanupResponse = z.object({
  updated: z.number().int(),
  jobs: z.array(z.string()),
  executors: z.array(z.string()),
  threshold: date,
});

/** `GET /executors`. */
export const executorsResponse = z.array(
  z.object({
    name: z.string(),
    description: z.string().nullable(),
    estimatedDurationMs: z.number().nullable(),
    timeoutMs: z.number().nullable(),
    paramsSchema: json.nullable().meta({ description: 'JSON Schema of the params' }),
    builtIn: z.boolean(),
  }),
);

/** `GET /stats`. */
export const statsResponse = z.object({
  executions24h: z.number().int(),
  running: z.number().int(),
  failures24h: z.number().int(),
  successRate: z.number().nullable(),
  nextRunAt: date.nullable(),
  timeline: z.array(
    z.object({
      date: z.string(),
      succeeded: z.number().int(),
      failed: z.number().int(),
      cancelled: z.number().int(),
      skipped: z.number().int(),
    }),
  ),
});

/** One audit entry as answered. */
export const auditEntryResponse = z.object({
  id: z.string(),
  at: date,
  actor: z.string().nullable(),
  action: z.enum(['created', 'updated', 'paused', 'resumed', 'deleted', 'seeded', 'triggered']),
  job: z.string().nullable(),
  tenantId: z.string().nullable(),
  before: json.nullable(),
  after: json.nullable(),
  note: z.string().nullable(),
});

/** A page of `GET /audit`. */
export const auditPageResponse = z.object({
  items: z.array(auditEntryResponse),
  nextCursor: z.string().nullable(),
});

/** Answer of `POST /jobs/preview`. */
export const previewResponse = z.object({ next: z.array(date), description: z.string(), horizon: date });

/** Answer of `POST /jobs/:name/backfill`. */
export const backfillResponse = z.object({ created: z.array(runResponse), skipped: z.number().int() });

/** Answer of `GET /health` (200 when `ok`, 503 otherwise). */
export const healthResponse = z.object({
  ok: z.boolean(),
  checkedAt: date,
  loop: z.object({
    started: z.boolean(),
    alive: z.boolean(),
    lastTickAt: date.nullable(),
    maxTickAgeMs: z.number(),
  }),
  store: z.object({ reachable: z.boolean(), latencyMs: z.number(), error: z.string().nullable() }),
  oldestDueLagMs: z.number().nullable(),
  stuckRuns: z.number().int().nullable(),
});
