import { z } from 'zod';
import type { BackfillTarget, SchedulerOptions, ScheduleTarget, TriggerTarget } from './api.js';
import { DATE_TEXT_RULE, parseIsoDate } from './dates.js';
import { DURATION_LIMITS, formatDuration, msOf, toMs } from './duration.js';
import { unknownOptionMessage, ValidationError } from './errors.js';
import { DATE_RANGE, identifierProblem, text } from './storable.js';
import { isValidTimezone } from './timezone.js';
import type { JsonObject } from './types.js';

/**
 * zod schemas for every input that crosses the public API. Each `parse*` helper throws a
 * `ValidationError` listing every offending field by path, and nothing is stored before it passes.
 */

const DURATION_STRING = /^\d+(?:\.\d+)?\s*(ms|s|m|h|d|w)$/;

/** A duration of at most `maxMs`: non-negative ms, or `'30s'`-style text. */
export function durationUpTo(maxMs: number) {
  return z
    .union([
      z.number().finite().nonnegative(),
      text((s) => s.max(32).regex(DURATION_STRING, "use milliseconds or a string like '30s', '5m', '3d'")),
    ])
    .refine((value) => !(msOf(value) > maxMs), `must be at most ${formatDuration(maxMs)}`);
}

/** Milliseconds, at most `maxMs`. */
/** Why a timeout of 0 is refused (see the job schema). */
export const TIMEOUT_MIN_MESSAGE = 'must be at least 1 ms; leave it out (or null) for no timeout';

function msUpTo(maxMs: number) {
  return z
    .number()
    .finite()
    .nonnegative()
    .max(maxMs, `must be at most ${formatDuration(maxMs)}`);
}

/** A duration: non-negative ms, or `'30s'`-style text, up to {@link DURATION_LIMITS}`.any`. */
export const durationSchema = durationUpTo(DURATION_LIMITS.any);

const jsonValue: z.ZodType<unknown> = z.lazy(() =>
  z.union([
    text(),
    z.number().finite(),
    z.boolean(),
    z.null(),
    z.array(jsonValue),
    z.record(text(), jsonValue),
  ]),
);

const jsonRecord = z.record(
  text((s) => s.max(200)),
  jsonValue,
);

/** How deep params and metadata may nest: JSON beyond it is a mistake, and a store may refuse it. */
export const MAX_JSON_DEPTH = 100;

/** Values params or metadata may hold in all, each list element and object field counted. */
export const MAX_JSON_VALUES = 1_000_000;

/**
 * Where `value` cannot become JSON by walking it: a cycle, nesting past MAX_JSON_DEPTH, more than
 * MAX_JSON_VALUES values, `undefined` in a list, or a getter or proxy that throws; null when none.
 * Walked without recursion before the shape is checked, which recurses and would overflow the
 * stack, or take exponential time on shared objects.
 */
function jsonWalkProblem(value: unknown): JsonProblem | null {
  const pending: PendingValue[] = [{ value, path: [], parents: new Set() }];
  const budget = { values: 0 };
  for (let item = pending.pop(); item; item = pending.pop()) {
    try {
      const problem = visitJson(item, pending, budget);
      if (problem) return problem;
    } catch {
      // A getter that throws, a revoked Proxy: what cannot be read cannot be stored.
      return { path: item.path, message: 'cannot be read as JSON (a getter or a proxy threw)' };
    }
  }
  return null;
}

interface JsonProblem {
  path: (string | number)[];
  message: string;
}

interface PendingValue {
  value: unknown;
  path: (string | number)[];
  parents: Set<object>;
}

/** Checks one value of {@link jsonWalkProblem}'s walk and queues its children. */
function visitJson(
  item: PendingValue,
  pending: PendingValue[],
  budget: { values: number },
): JsonProblem | null {
  const current = item.value;
  if (current === null || typeof current !== 'object') return null;
  if (item.parents.has(current))
    return { path: item.path, message: 'refers to itself: JSON cannot hold a cycle' };
  if (item.path.length >= MAX_JSON_DEPTH)
    return { path: item.path, message: `nests deeper than ${MAX_JSON_DEPTH} levels` };
  const parents = new Set(item.parents).add(current);
  const entries: [string | number, unknown][] = Array.isArray(current)
    ? current.map((child, index) => [index, child])
    : Object.entries(current);
  // Counted along every path: an object shared many times is that many values to check, copy and
  // store, which a chain of shared objects makes exponential.
  budget.values += entries.length;
  if (budget.values > MAX_JSON_VALUES)
    return {
      path: [],
      message: `holds more than ${MAX_JSON_VALUES} values (a shared object counts each time)`,
    };
  for (const [key, child] of entries) {
    if (child === undefined && Array.isArray(current))
      return {
        path: [...item.path, key],
        message: 'is undefined, which JSON cannot hold in a list: use null',
      };
    if (child !== null && typeof child === 'object')
      pending.push({ value: child, path: [...item.path, key], parents });
  }
  return null;
}

/**
 * A deep copy of JSON that keeps every key, `__proto__` included, as plain data. `-0` becomes `0`:
 * JSON text, PostgreSQL and Redis all carry it as 0, so every store reads back the same. A key
 * whose value is `undefined` is left out, as JSON text leaves it out: `{ label: options.label }`
 * with no label is `{}`, as the types allow.
 */
function copyJson(value: unknown): unknown {
  if (Object.is(value, -0)) return 0;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(copyJson);
  // A Date, Map or class instance is left as it is, for the shape check to refuse: copied, it
  // would pass as a plain object and lose what it held.
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value))
    if (field !== undefined)
      Object.defineProperty(copy, key, {
        value: copyJson(field),
        enumerable: true,
        writable: true,
        configurable: true,
      });
  return copy;
}

/**
 * A JSON object (params, metadata). Validated by shape, then copied from the input rather than
 * taken from zod's output, which drops a `__proto__` key: what a user stores comes back whole.
 */
export const jsonObjectSchema = z.unknown().transform((value, ctx) => {
  const problem = jsonWalkProblem(value);
  if (problem) {
    ctx.addIssue({ code: 'custom', message: problem.message, path: problem.path });
    return z.NEVER;
  }
  const copy = copyJson(value);
  const result = jsonRecord.safeParse(copy);
  if (result.success) return copy;
  for (const issue of result.error.issues)
    ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  return z.NEVER;
}) as unknown as z.ZodType<JsonObject>;

/** A note on a job's pause (the job's `pausedNote`, a pause's or resume's note), kept in its audit entry too. */
export const pauseNoteSchema = text((s) => s.max(2000, 'must be at most 2000 characters')).nullable();

/** A name: job, executor or tenant. */
export const nameSchema = text((s) =>
  s.min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
)
  .refine((value) => value.trim() === value, 'must not start or end with spaces')
  // In a URL path `.` and `..` are dot segments: clients and servers resolve them away, so a job
  // so named could never be addressed (`/jobs/..` is `/`). Control characters break logs and URLs.
  .refine((value) => value !== '.' && value !== '..', 'must not be "." or ".."')
  .superRefine(identifierCharacters);

/** Refuses what {@link identifierProblem} refuses, saying which character and why. */
function identifierCharacters(value: string, ctx: z.RefinementCtx): void {
  const problem = identifierProblem(value);
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
}

/** A tenant id, null for global. */
export const tenantIdSchema = text((s) => s.min(1).max(200))
  .superRefine(identifierCharacters)
  .nullable();

const timezoneSchema = text((s) => s.max(64)).refine(isValidTimezone, {
  error: (issue) =>
    `"${String(issue.input).slice(0, 64)}" is not an IANA time zone (e.g. "UTC", "Europe/Paris")`,
});

const dateSchema = z.union([z.date(), text((s) => s.max(64))]).transform((value, ctx) => {
  const date = value instanceof Date ? value : parseIsoDate(value);
  if (date === null || Number.isNaN(date.getTime())) {
    ctx.addIssue({ code: 'custom', message: `is not a valid date (${DATE_TEXT_RULE})` });
    return z.NEVER;
  }
  if (date < DATE_RANGE.min || date > DATE_RANGE.max) {
    ctx.addIssue({ code: 'custom', message: 'must be between 1970-01-01 and 9999-12-31 (UTC)' });
    return z.NEVER;
  }
  return date;
});

/** Retry policy input. */
export const retrySchema = z.strictObject({
  limit: z.number().int().min(0).max(100),
  backoff: z
    .strictObject({
      type: z.enum(['fixed', 'exponential']),
      delay: durationUpTo(DURATION_LIMITS.retryDelay),
      max: durationUpTo(DURATION_LIMITS.retryDelay).nullable().optional(),
    })
    .optional(),
});

const taskSchema = z.union([
  nameSchema,
  z.strictObject({
    executor: nameSchema,
    enabled: z.boolean().optional(),
    params: jsonObjectSchema.optional(),
  }),
]);

const jobFields = {
  name: nameSchema,
  description: text((s) => s.max(2000, 'must be at most 2000 characters'))
    .nullable()
    .optional(),
  schedule: text((s) => s.min(1, 'must not be empty').max(200)),
  timezone: timezoneSchema.optional(),
  executor: nameSchema.optional(),
  tasks: z.array(taskSchema).min(1, 'needs at least one task').max(50).optional(),
  params: jsonObjectSchema.optional(),
  enabled: z.boolean().optional(),
  pausedNote: pauseNoteSchema.optional(),
  overlap: z.enum(['skip', 'queue', 'allow']).optional(),
  misfire: z.enum(['once', 'skip', 'all']).optional(),
  catchUpLimit: z.number().int().min(1).max(1000).optional(),
  misfireGrace: durationUpTo(DURATION_LIMITS.misfireGrace).nullable().optional(),
  // A zero timeout would fail every run before it began: no timeout is null, not 0.
  timeout: durationUpTo(DURATION_LIMITS.timeout)
    .refine((value) => msOf(value) >= 1, TIMEOUT_MIN_MESSAGE)
    .nullable()
    .optional(),
  retry: retrySchema.nullable().optional(),
  autoPause: z
    .strictObject({ afterFailures: z.number().int().min(1).max(1000) })
    .nullable()
    .optional(),
  jitter: durationUpTo(DURATION_LIMITS.jitter).optional(),
  priority: z.number().int().min(-1000).max(1000).optional(),
  activeFrom: dateSchema.nullable().optional(),
  activeUntil: dateSchema.nullable().optional(),
  metadata: jsonObjectSchema.optional(),
  // The names a job is read back with: durations in milliseconds.
  // The same limits as written durations: `timeoutMs` is the same setting as `timeout`.
  misfireGraceMs: msUpTo(DURATION_LIMITS.misfireGrace).nullable().optional(),
  timeoutMs: msUpTo(DURATION_LIMITS.timeout).min(1, TIMEOUT_MIN_MESSAGE).nullable().optional(),
  jitterMs: msUpTo(DURATION_LIMITS.jitter).optional(),
};

const countSchema = z.number().int().nonnegative();

/**
 * Fields a job is read back with that no write changes: accepted, so that what `jobs.get` returns
 * can be written back as it is, and otherwise ignored (`version` and `id` guard an update, see
 * `jobs.update`). Each is still checked by type, so junk is refused.
 */
const readOnlyFields = {
  id: text((s) => s.min(1).max(200)).optional(),
  version: z.number().int().min(1).optional(),
  nextRunAt: dateSchema.nullable().optional(),
  lastRunAt: dateSchema.nullable().optional(),
  lastRunId: text((s) => s.max(200))
    .nullable()
    .optional(),
  lastStatus: z
    .enum(['pending', 'running', 'succeeded', 'failed', 'cancelled', 'skipped'])
    .nullable()
    .optional(),
  lastError: text().nullable().optional(),
  lastDurationMs: z.number().finite().nonnegative().nullable().optional(),
  runCount: countSchema.optional(),
  errorCount: countSchema.optional(),
  consecutiveFailures: countSchema.optional(),
  createdAt: dateSchema.optional(),
  updatedAt: dateSchema.optional(),
};

/** A duration given twice (`timeout` and `timeoutMs`) must say the same thing. */
function sameDurations(
  job: {
    timeout?: string | number | null | undefined;
    timeoutMs?: number | null | undefined;
    misfireGrace?: string | number | null | undefined;
    misfireGraceMs?: number | null | undefined;
    jitter?: string | number | undefined;
    jitterMs?: number | undefined;
  },
  ctx: z.RefinementCtx,
): void {
  const pairs = [
    ['timeout', job.timeout, job.timeoutMs],
    ['misfireGrace', job.misfireGrace, job.misfireGraceMs],
    ['jitter', job.jitter, job.jitterMs],
  ] as const;
  for (const [name, text, ms] of pairs) {
    if (text === undefined || ms === undefined) continue;
    let same: boolean;
    try {
      same = text === null || ms === null ? text === ms : toMs(text, name) === ms;
    } catch {
      continue; // a malformed duration is reported on its own field
    }
    if (!same)
      ctx.addIssue({
        code: 'custom',
        path: [`${name}Ms`],
        message: `says ${ms} but \`${name}\` says ${String(text)}; give one of them`,
      });
  }
}

/** Who wrote a job, as given on a write or as read back. */
const actorFields = {
  createdBy: text((s) => s.max(200))
    .nullable()
    .optional(),
  updatedBy: text((s) => s.max(200))
    .nullable()
    .optional(),
};

/** Input of `jobs.create`; also accepts a job as read (read-only fields ignored). */
export const jobInputSchema = z
  .strictObject({
    ...jobFields,
    ...readOnlyFields,
    tenantId: tenantIdSchema.optional(),
    ...actorFields,
  })
  .superRefine((job, ctx) => {
    if (job.executor === undefined && job.tasks === undefined) {
      ctx.addIssue({ code: 'custom', path: ['executor'], message: 'give `executor` or `tasks`' });
    }
    if (job.executor !== undefined && job.tasks !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['tasks'], message: 'give `executor` or `tasks`, not both' });
    }
    sameDurations(job, ctx);
  });

/** Input of `jobs.update`; also accepts a job as read (see `jobs.update` for `version`, `id`, `tenantId`). */
export const jobUpdateSchema = z
  .strictObject({
    ...jobFields,
    ...readOnlyFields,
    tenantId: tenantIdSchema.optional(),
    ...actorFields,
  })
  .partial()
  .superRefine((patch, ctx) => {
    if (patch.executor !== undefined && patch.tasks !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['tasks'], message: 'give `executor` or `tasks`, not both' });
    }
    sameDurations(patch, ctx);
  });

const targetFields = {
  job: nameSchema.optional(),
  executor: nameSchema.optional(),
  params: jsonObjectSchema.optional(),
  tenantId: tenantIdSchema.optional(),
};

function oneTarget(input: { job?: string | undefined; executor?: string | undefined }, ctx: z.RefinementCtx) {
  if ((input.job === undefined) === (input.executor === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['job'], message: 'give exactly one of `job` or `executor`' });
  }
}

/** Input of `trigger`. */
export const triggerInputSchema = z
  .strictObject({
    ...targetFields,
    triggeredBy: text((s) => s.max(200))
      .nullable()
      .optional(),
    force: z.boolean().optional(),
    beforeCreate: z
      .custom<(target: TriggerTarget) => void | Promise<void>>((value) => typeof value === 'function', {
        message: 'must be a function',
      })
      .optional(),
  })
  .superRefine(oneTarget);

/** Input of `schedule`. */
export const scheduleInputSchema = z
  .strictObject({
    ...targetFields,
    at: dateSchema,
    createdBy: text((s) => s.max(200))
      .nullable()
      .optional(),
    beforeCreate: z
      .custom<(target: ScheduleTarget) => void | Promise<void>>((value) => typeof value === 'function', {
        message: 'must be a function',
      })
      .optional(),
  })
  .superRefine(oneTarget);

const runStatus = z.enum(['pending', 'running', 'succeeded', 'failed', 'cancelled', 'skipped']);
const runTrigger = z.enum(['schedule', 'manual', 'once', 'retry', 'backfill']);

/** Filter of `runs.list`. */
export const runListSchema = z.strictObject({
  tenantId: tenantIdSchema.optional(),
  includeGlobal: z.boolean().optional(),
  status: z.union([runStatus, z.array(runStatus).max(6)]).optional(),
  job: nameSchema.optional(),
  executor: nameSchema.optional(),
  trigger: z.union([runTrigger, z.array(runTrigger).max(5)]).optional(),
  since: dateSchema.optional(),
  until: dateSchema.optional(),
  limit: z.number().int().min(1).max(500).optional(),
  cursor: text((s) => s.max(500))
    .nullable()
    .optional(),
});

/** Every option `createScheduler` reads; typed so that a new option cannot be left out. */
const SCHEDULER_OPTION_KEYS: Record<keyof SchedulerOptions, true> = {
  store: true,
  executors: true,
  timezone: true,
  concurrency: true,
  pollInterval: true,
  lease: true,
  retention: true,
  staleAfter: true,
  logger: true,
  clock: true,
  random: true,
  instanceId: true,
  jobs: true,
  maintenanceJobs: true,
  maxLogLines: true,
  oneOffLimits: true,
  tenantLimits: true,
  telemetry: true,
};

/** A misspelled option would otherwise be ignored without a word, leaving the default in force. */
export function assertKnownSchedulerOptions(options: object): void {
  const unknown = Object.keys(options).filter((key) => !Object.hasOwn(SCHEDULER_OPTION_KEYS, key));
  if (unknown.length === 0) return;
  const message = unknownOptionMessage('createScheduler', Object.keys(SCHEDULER_OPTION_KEYS));
  throw new ValidationError(unknown.map((key) => ({ path: key, message })));
}

/** Options of `createScheduler` other than objects checked by shape (store, clock, logger). */
export const schedulerOptionsSchema = z.object({
  timezone: timezoneSchema.optional(),
  concurrency: z.number().int().min(1).max(1000).optional(),
  pollInterval: durationUpTo(DURATION_LIMITS.pollInterval).optional(),
  lease: durationUpTo(DURATION_LIMITS.lease).optional(),
  retention: durationUpTo(DURATION_LIMITS.retention).optional(),
  staleAfter: durationUpTo(DURATION_LIMITS.staleAfter).optional(),
  instanceId: text((s) => s.min(1).max(200)).optional(),
  maintenanceJobs: z.boolean().optional(),
  maxLogLines: z.number().int().min(0).max(100_000).optional(),
  oneOffLimits: z
    .strictObject({
      perJob: z.union([z.number().int().min(1).max(1_000_000), z.literal(false)]).optional(),
      perTenant: z.union([z.number().int().min(1).max(10_000_000), z.literal(false)]).optional(),
    })
    .optional(),
  tenantLimits: z
    .strictObject({
      maxJobs: z.union([z.number().int().min(1).max(10_000_000), z.literal(false)]).optional(),
      minInterval: z.union([durationUpTo(DURATION_LIMITS.any), z.literal(false)]).optional(),
      maxRetries: z.union([z.number().int().min(0).max(100), z.literal(false)]).optional(),
    })
    .optional(),
});

const scopeSchema = z.strictObject({
  tenantId: tenantIdSchema.optional(),
  includeGlobal: z.boolean().optional(),
  by: text((s) => s.max(200))
    .nullable()
    .optional(),
  note: pauseNoteSchema.optional(),
  dryRun: z.boolean().optional(),
});

/** The tenant part of a listing's filter (`jobs.list`, `stats`, `dashboard`, `runs.list`). */
export const tenantFilterSchema = z.object({
  tenantId: tenantIdSchema.optional(),
  includeGlobal: z.boolean().optional(),
});

/** Options of `dashboard`. */
export const dashboardOptionsSchema = z.strictObject({
  tenantId: tenantIdSchema.optional(),
  locale: text((s) => s.max(35)).optional(),
});

/** Filter of `jobs.list`. */
export const jobListSchema = tenantFilterSchema.extend({ enabled: z.boolean().optional() }).strict();

/** Filter of `audit.list`. */
export const auditListSchema = z.strictObject({
  job: nameSchema.optional(),
  tenantId: tenantIdSchema.optional(),
  since: dateSchema.optional(),
  limit: z.number().int().min(1).max(500).optional(),
  cursor: text((s) => s.max(500))
    .nullable()
    .optional(),
});

/** The most instants `preview` computes. */
export const MAX_PREVIEW_COUNT = 100;

/** Input of `preview`. */
export const previewInputSchema = z.strictObject({
  schedule: text((s) => s.min(1, 'must not be empty').max(200)),
  timezone: timezoneSchema.optional(),
  count: z.number().int().min(1).max(MAX_PREVIEW_COUNT).optional(),
  from: dateSchema.optional(),
  locale: text((s) => s.min(2).max(20)).optional(),
});

/** The most slots one `backfill` call creates runs for. */
export const MAX_BACKFILL_SLOTS = 1000;

/** Input of `backfill`. */
export const backfillInputSchema = z.strictObject({
  job: nameSchema,
  tenantId: tenantIdSchema.optional(),
  from: dateSchema,
  to: dateSchema,
  limit: z.number().int().min(1).max(MAX_BACKFILL_SLOTS).optional(),
  triggeredBy: text((s) => s.max(200))
    .nullable()
    .optional(),
  beforeCreate: z
    .custom<(target: BackfillTarget) => void | Promise<void>>((value) => typeof value === 'function', {
      message: 'must be a function',
    })
    .optional(),
});

/** Options of `prune`. A misspelt key is refused: ignored, it would prune every tenant. */
export const pruneOptionsSchema = z.strictObject({
  olderThan: durationSchema.optional(),
  tenantId: tenantIdSchema.optional(),
  audit: z.boolean().optional(),
});

/** Options of `cleanupStale`. */
export const cleanupStaleOptionsSchema = z.strictObject({
  olderThan: durationSchema.optional(),
  tenantId: tenantIdSchema.optional(),
});

/** Options of `stats` (`since` and `days` are checked against the timeline where it is built). */
export const statsOptionsSchema = z.strictObject({
  since: z.union([z.date(), text((s) => s.max(64))]).optional(),
  tenantId: tenantIdSchema.optional(),
  days: z.number().optional(),
});

const RUN_DUE_LIMIT_MESSAGE = 'must be a whole number from 1 to 100000';

/** Options of `runDue`. */
export const runDueOptionsSchema = z.strictObject({
  limit: z
    .number()
    .int(RUN_DUE_LIMIT_MESSAGE)
    .min(1, RUN_DUE_LIMIT_MESSAGE)
    .max(100_000, RUN_DUE_LIMIT_MESSAGE)
    .optional(),
});

/** Options of `jobs.seed`. A misspelt `overwrite` is refused: ignored, it would overwrite nothing. */
export const seedOptionsSchema = z.strictObject({ overwrite: z.boolean().optional() });

/** Options of `stop`. */
export const stopOptionsSchema = z.strictObject({ grace: durationSchema.optional() });

/**
 * A method's optional options object, checked with `schema`: left out is `{}`, anything but a
 * plain object is refused by name rather than failing on a property read.
 */
export function parseOptions<T>(schema: z.ZodType<T>, options: unknown): T {
  if (options === undefined) return parse(schema, {});
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw ValidationError.field('options', 'must be an object, or left out');
  return parse(schema, options);
}

/** Input of `health`. */
export const healthInputSchema = z.strictObject({
  timeout: durationSchema.optional(),
  maxLag: durationSchema.nullable().optional(),
});

/**
 * The optional last argument of job and run calls (`{ tenantId, includeGlobal, by }`). Checked so
 * that `null` or a wrong tenant type is a `ValidationError` on `scope`, not a crash blamed on the store.
 */
export function parseScope(scope: unknown): z.output<typeof scopeSchema> {
  if (scope === undefined) return {};
  if (typeof scope !== 'object' || scope === null || Array.isArray(scope))
    throw ValidationError.field('scope', 'must be an object such as { tenantId: "acme" }, or left out');
  return parse(scopeSchema, scope);
}

/** Parse `input` with `schema`, throwing `ValidationError` (paths prefixed by `prefix`) on failure. */
export function parse<T>(schema: z.ZodType<T>, input: unknown, prefix = ''): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const pathOf = (parts: string[]) => [prefix, ...parts].filter(Boolean).join('.');
  throw new ValidationError(
    result.error.issues.flatMap((issue) =>
      // An unknown key is named as the field it is, so a misspelt option points at itself.
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({
            path: pathOf([...issue.path.map(String), key === '' ? '""' : key]),
            message: 'is not a known field',
          }))
        : [{ path: pathOf(issue.path.map(String)), message: issue.message }],
    ),
  );
}
