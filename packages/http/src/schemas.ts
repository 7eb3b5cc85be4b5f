import { DATE_TEXT_RULE, isStorableText, parseIsoDate, STORABLE_TEXT_RULE } from '@cronkeeper/core';
import { z } from 'zod';

/**
 * The HTTP-level zod schemas: every body, query and path parameter the router accepts. They reject
 * unknown fields and wrong types with the field named; core re-validates the meaning (a schedule
 * that parses, a registered executor, a date in the future). `GET /openapi.json` is built from them.
 */

const NAME_MAX = 200;

/** A job, executor or tenant name in a path or body. */
export const nameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(NAME_MAX, `must be at most ${NAME_MAX} characters`);

/** A run id: store-assigned, opaque, URL-safe. */
export const runIdSchema = z
  .string()
  .max(200, 'is not a run id')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'is not a run id');

/**
 * Free text (descriptions, notes, actors) of at most `max` characters that every store can hold.
 * Core checks it too; checking here as well names the field in the body whatever the route does
 * with it, so no store is ever the one to refuse it.
 */
const freeText = (max?: number) =>
  (max === undefined ? z.string() : z.string().max(max)).refine(isStorableText, STORABLE_TEXT_RULE);

const jsonRecord = z.record(z.string().max(200), z.unknown());

/**
 * A JSON object (params, metadata): checked as a record, then passed on as sent. zod leaves a
 * `__proto__` key out of the record it outputs, and core keeps that key as data like any other, so
 * the body's own object goes on. The meta keeps the record's JSON Schema in the OpenAPI document.
 */
const jsonObject = z
  .unknown()
  .superRefine((value, ctx) => {
    const result = jsonRecord.safeParse(value);
    if (!result.success)
      for (const issue of result.error.issues)
        ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  })
  .transform((value) => value as Record<string, unknown>)
  .meta({
    description: 'a JSON object',
    type: 'object',
    propertyNames: { type: 'string', maxLength: 200 },
    additionalProperties: {},
  });

const duration = z
  .union([z.number().finite().nonnegative(), z.string().max(32)])
  .meta({ description: "milliseconds, or text such as '30s', '5m', '3d'" });

/** The forms core reads, so a date is refused here with the field named rather than read another way. */
const isoDate = z
  .string()
  .max(64)
  .refine((value) => parseIsoDate(value) !== null, `is not a valid date (${DATE_TEXT_RULE})`)
  .meta({ description: 'ISO 8601 date-time with Z or an offset, or a date alone (midnight UTC)' });

const retry = z.strictObject({
  limit: z.number().int().min(0).max(100),
  backoff: z
    .strictObject({
      type: z.enum(['fixed', 'exponential']),
      delay: duration,
      max: duration.nullable().optional(),
    })
    .optional(),
});

const task = z.union([
  nameSchema,
  z.strictObject({ executor: nameSchema, enabled: z.boolean().optional(), params: jsonObject.optional() }),
]);

const jobFields = {
  description: freeText(2000).nullable().optional(),
  schedule: z.string().min(1, 'must not be empty').max(200),
  timezone: z.string().min(1).max(64).meta({ description: 'IANA time zone, e.g. Europe/Paris' }).optional(),
  executor: nameSchema.optional(),
  tasks: z.array(task).min(1, 'needs at least one task').max(50).optional(),
  params: jsonObject.optional(),
  enabled: z.boolean().optional(),
  pausedNote: freeText(2000).nullable().optional(),
  overlap: z.enum(['skip', 'queue', 'allow']).optional(),
  misfire: z.enum(['once', 'skip', 'all']).optional(),
  catchUpLimit: z.number().int().min(1).max(1000).optional(),
  misfireGrace: duration.nullable().optional(),
  timeout: duration.nullable().optional(),
  retry: retry.nullable().optional(),
  autoPause: z
    .strictObject({ afterFailures: z.number().int().min(1).max(1000) })
    .nullable()
    .optional()
    .meta({ description: 'pause the job after this many failed runs in a row' }),
  jitter: duration.optional(),
  priority: z.number().int().min(-1000).max(1000).optional(),
  activeFrom: isoDate.nullable().optional(),
  activeUntil: isoDate.nullable().optional(),
  metadata: jsonObject.optional(),
  // The names a job is read back with: durations in milliseconds (give these or the ones above).
  misfireGraceMs: z.number().finite().nonnegative().nullable().optional(),
  timeoutMs: z.number().finite().min(1).nullable().optional(),
  jitterMs: z.number().finite().nonnegative().optional(),
};

const count = z.number().int().nonnegative();

/**
 * What `GET /jobs/:name` answers beyond the definition, accepted by every job write so that a job
 * read can be sent back as it is: ignored (the scheduler keeps them), except `version`, which makes
 * the change apply only to that version (409 when the job moved on), like `If-Match`.
 */
const readBackFields = {
  id: z.string().max(200).optional(),
  version: z
    .number()
    .int()
    .min(1)
    .optional()
    .meta({ description: 'the version read; 409 if the job changed since' }),
  nextRunAt: isoDate.nullable().optional(),
  lastRunAt: isoDate.nullable().optional(),
  lastRunId: z.string().max(200).nullable().optional(),
  lastStatus: z
    .enum(['pending', 'running', 'succeeded', 'failed', 'cancelled', 'skipped'])
    .nullable()
    .optional(),
  lastError: freeText().nullable().optional(),
  lastDurationMs: z.number().finite().nonnegative().nullable().optional(),
  runCount: count.optional(),
  errorCount: count.optional(),
  consecutiveFailures: count.optional(),
  createdAt: isoDate.optional(),
  createdBy: freeText(200).nullable().optional(),
  updatedAt: isoDate.optional(),
  updatedBy: freeText(200).nullable().optional(),
};

/** Body of `POST /jobs` (and each entry of `POST /jobs/seed`); a job as read is accepted too. */
export const jobCreateBody = z.strictObject({
  name: nameSchema,
  tenantId: nameSchema.nullable().optional(),
  ...jobFields,
  ...readBackFields,
});

/** Body of `PATCH /jobs/:name`: any definition field; `name` renames; `tenantId` only as the job's own. */
export const jobPatchBody = z.strictObject({
  name: nameSchema.optional(),
  tenantId: nameSchema.nullable().optional(),
  ...jobFields,
  schedule: jobFields.schedule.optional(),
  ...readBackFields,
});

/**
 * Body of `PUT /jobs/:name`: creates the job when missing, else changes the fields given. What
 * `GET /jobs/:name` answered is accepted as it is: `name` when it is the one in the path, `tenantId`
 * when it is the job's.
 */
export const jobPutBody = z.strictObject({
  name: nameSchema.optional(),
  tenantId: nameSchema.nullable().optional(),
  ...jobFields,
  schedule: jobFields.schedule.optional(),
  ...readBackFields,
});

/** Body of `POST /jobs/seed`. */
export const seedBody = z.strictObject({
  jobs: z.array(jobCreateBody).max(500).optional(),
  overwrite: z.boolean().optional(),
});

/** Body of `POST /jobs/:name/pause`. */
export const pauseBody = z.strictObject({ note: freeText(2000).nullable().optional() });

/** Body of requests that take no fields (resume, cancel, reload). */
export const emptyBody = z.strictObject({});

/** Body of the trigger routes. */
export const triggerBody = z.strictObject({
  params: jsonObject.optional(),
  force: z.boolean().optional().meta({ description: 'start even though a run is running' }),
});

/** Body of `POST /scheduled`: a one-off run of a job or an executor at a future instant. */
export const scheduleBody = z.strictObject({
  job: nameSchema.optional(),
  executor: nameSchema.optional(),
  at: isoDate,
  params: jsonObject.optional(),
});

/** Body of `POST /run-due`. */
export const runDueBody = z.strictObject({ limit: z.number().int().min(1).max(100_000).optional() });

/** Body of the maintenance routes. */
export const olderThanBody = z.strictObject({ olderThan: duration.optional() });

/** Path parameters. */
export const nameParams = z.strictObject({ name: nameSchema });
/** Path parameters of run routes. */
export const idParams = z.strictObject({ id: runIdSchema });

// Query strings arrive as strings (or arrays when repeated); these turn them into typed values.
const qString = (max: number) => z.string().max(max);
const qBool = z.enum(['true', 'false']).transform((value) => value === 'true');
const qInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
const qList = <T extends string>(values: readonly [T, ...T[]]) =>
  z
    .union([z.string().max(200), z.array(z.string().max(200)).max(10)])
    .transform((value) => ([] as string[]).concat(value).flatMap((item) => item.split(',')))
    .pipe(z.array(z.enum(values)).min(1));

/** `tenantId` in a query: a tenant id, or empty for global (null). Operators only pick another tenant. */
export const tenantQuery = qString(NAME_MAX)
  .transform((value) => (value === '' ? null : value))
  .meta({ description: 'tenant to work in; empty for global' });

const runStatuses = ['pending', 'running', 'succeeded', 'failed', 'cancelled', 'skipped'] as const;
const runTriggers = ['schedule', 'manual', 'once', 'retry', 'backfill'] as const;
const cursor = z
  .string()
  .max(500)
  .regex(/^[A-Za-z0-9_-]+$/, 'is not a cursor returned by a previous page');

/** Query of routes that address one tenant's objects. */
export const scopeQuery = z.strictObject({ tenantId: tenantQuery.optional() });

/** Most jobs one `GET /jobs` answer (and the dashboard) lists; the rest come by cursor. */
export const MAX_JOBS_PAGE = 500;

/** Query of `GET /jobs`. */
export const jobsQuery = z.strictObject({
  tenantId: tenantQuery.optional(),
  enabled: qBool.optional(),
  includeGlobal: qBool.optional(),
  limit: qInt(1, MAX_JOBS_PAGE).optional(),
  cursor: cursor.optional(),
});

/** Query of `GET /runs`. */
export const runsQuery = z.strictObject({
  tenantId: tenantQuery.optional(),
  status: qList(runStatuses).optional(),
  job: nameSchema.optional(),
  executor: nameSchema.optional(),
  trigger: qList(runTriggers).optional(),
  since: isoDate.optional(),
  until: isoDate.optional(),
  limit: qInt(1, 500).optional(),
  cursor: cursor.optional(),
});

/** Query of `GET /scheduled`. */
export const scheduledQuery = z.strictObject({
  tenantId: tenantQuery.optional(),
  status: qList(runStatuses).optional(),
  job: nameSchema.optional(),
  executor: nameSchema.optional(),
  limit: qInt(1, 500).optional(),
  cursor: cursor.optional(),
});

/** Query of `GET /dashboard`. */
export const dashboardQuery = z.strictObject({
  tenantId: tenantQuery.optional(),
  locale: z
    .string()
    .regex(/^[a-z]{2,3}(?:[-_][A-Za-z]{2,4})?$/, 'is not a locale such as "en" or "fr"')
    .optional(),
});

/** Query of `GET /stats`. */
export const statsQuery = z.strictObject({
  tenantId: tenantQuery.optional(),
  days: qInt(1, 366).optional(),
  since: isoDate.optional(),
});

/** Query of `GET /audit`. */
export const auditQuery = z.strictObject({
  tenantId: tenantQuery.optional(),
  job: nameSchema.optional(),
  since: isoDate.optional(),
  limit: qInt(1, 500).optional(),
  cursor: cursor.optional(),
});

/** Body of `POST /jobs/preview`. */
export const previewBody = z.strictObject({
  schedule: z.string().min(1, 'must not be empty').max(200),
  timezone: z.string().min(1).max(64).meta({ description: 'IANA time zone, e.g. Europe/Paris' }).optional(),
  count: z.number().int().min(1).max(100).optional(),
  from: isoDate.optional(),
  locale: z
    .string()
    .regex(/^[a-z]{2,3}(?:[-_][A-Za-z]{2,4})?$/, 'is not a locale such as "en" or "fr"')
    .optional(),
});

/** Body of `POST /jobs/:name/backfill`. */
export const backfillBody = z.strictObject({
  from: isoDate,
  to: isoDate,
  limit: z.number().int().min(1).max(1000).optional(),
});

/** Query of `GET /health`. */
export const healthQuery = z.strictObject({
  maxLag: z.string().max(32).optional().meta({ description: "duration such as '5m': not ok past this lag" }),
});
