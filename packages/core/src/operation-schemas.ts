import { z } from 'zod';
import type { BackfillTarget, SchedulerOptions } from './api.js';
import { DURATION_LIMITS } from './duration.js';
import { unknownOptionMessage, ValidationError } from './errors.js';
import { text } from './storable.js';
import {
  dateSchema,
  durationSchema,
  durationUpTo,
  nameSchema,
  parse,
  pauseNoteSchema,
  tenantIdSchema,
  timezoneSchema,
} from './validation.js';

/**
 * The options objects of `createScheduler` and of the scheduler's operations (prune, stats, run
 * due, health, preview, backfill and the rest), checked like every other input (see validation.ts).
 */

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
