import { z } from 'zod';
import type { ScheduleTarget, TriggerTarget } from './api.js';
import { DATE_TEXT_RULE, parseIsoDate } from './dates.js';
import { DURATION_LIMITS, formatDuration, msOf, toMs } from './duration.js';
import { ValidationError } from './errors.js';
import { jsonObjectSchema } from './json-input.js';
import { DATE_RANGE, identifierProblem, text } from './storable.js';
import { isValidTimezone } from './timezone.js';

/**
 * zod schemas for the inputs that cross the public API: jobs, triggers, one-offs and run filters
 * here, with the pieces they share; params and metadata in json-input.ts; the options of
 * `createScheduler` and of the operations in operation-schemas.ts. Each `parse*` helper throws a
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

/** Why a timeout of 0 is refused (see the job schema). */
export const TIMEOUT_MIN_MESSAGE = 'must be at least 1 ms; leave it out (or null) for no timeout';

/** Milliseconds, at most `maxMs`. */
function msUpTo(maxMs: number) {
  return z
    .number()
    .finite()
    .nonnegative()
    .max(maxMs, `must be at most ${formatDuration(maxMs)}`);
}

/** A duration: non-negative ms, or `'30s'`-style text, up to {@link DURATION_LIMITS}`.any`. */
export const durationSchema = durationUpTo(DURATION_LIMITS.any);

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

export const timezoneSchema = text((s) => s.max(64)).refine(isValidTimezone, {
  error: (issue) =>
    `"${String(issue.input).slice(0, 64)}" is not an IANA time zone (e.g. "UTC", "Europe/Paris")`,
});

export const dateSchema = z.union([z.date(), text((s) => s.max(64))]).transform((value, ctx) => {
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
