import type { BackfillInput, BackfillResult, PreviewInput, PreviewResult } from './api.js';
import type { SchedulerContext } from './context.js';
import { storeCall, ValidationError } from './errors.js';
import type { Jobs } from './jobs.js';
import { backfillInputSchema, previewInputSchema } from './operation-schemas.js';
import { nextSlot } from './planning.js';
import { retryPolicyOf } from './retry.js';
import { buildRun } from './run-factory.js';
import { parseSchedule } from './schedule.js';
import { DATE_RANGE } from './storable.js';
import type { NewRun } from './store.js';
import type { Job, Run } from './types.js';
import { parse } from './validation.js';

/** Runs `backfill` creates at once: enough to overlap round trips, few enough to spare the pool. */
const BACKFILL_LANES = 8;

/**
 * How far past `from` a preview looks. A schedule that fires once in decades (the fifth Monday of
 * February) would otherwise cost each of up to 100 instants a search over decades of zone offsets,
 * on a route any reader may call: the horizon bounds the work of one preview by years, not by count.
 */
export const PREVIEW_HORIZON_YEARS = 10;

/**
 * The oldest `from` a backfill accepts, counted back from now. Enough to replay a year of missed
 * slots (a yearly job's last one included); a range reaching further back is refused before any
 * slot is computed, so a mistyped or hostile year never costs a walk over centuries of slots.
 */
export const BACKFILL_MAX_LOOKBACK_DAYS = 366;
const DAY_MS = 86_400_000;

/** The next instants of a schedule after `from` (default now), up to the horizon, and its description. */
export function previewSchedule(
  input: PreviewInput,
  defaults: { timezone: string; now: Date },
): PreviewResult {
  const parsed = parse(previewInputSchema, input);
  const schedule = parseSchedule(parsed.schedule, { timezone: parsed.timezone ?? defaults.timezone });
  const count = parsed.count ?? 5;
  const from = parsed.from ?? defaults.now;
  const horizon = new Date(from.getTime());
  horizon.setUTCFullYear(horizon.getUTCFullYear() + PREVIEW_HORIZON_YEARS);
  // No instant past the last one a job's next run can be stored as.
  if (horizon.getTime() > DATE_RANGE.max.getTime()) horizon.setTime(DATE_RANGE.max.getTime());
  const next: Date[] = [];
  for (let after = from; next.length < count; ) {
    const instant = schedule.next(after);
    if (!instant || instant.getTime() > horizon.getTime()) break;
    next.push(instant);
    after = instant;
  }
  return { next, description: schedule.describe(parsed.locale), horizon };
}

/** What `backfillSlots` asks of the scheduler around creating the runs. */
export interface BackfillHooks {
  /** Checks the batch against the one-off caps, then creates it (the scheduler's `OneOffGate`). */
  admit: <T>(run: NewRun, label: string, create: () => Promise<T>, count: number) => Promise<T>;
  /** Told of each run created. */
  onCreated: (run: Run) => void;
}

/**
 * One run per slot of a job in `[from, to)`, each carrying the slot's dedupe key: a slot that has a
 * run — fired by the loop, or backfilled before, by any instance — is skipped, since the store
 * creates a dedupe key once. Runs queue behind each other (and behind a running run of the job)
 * unless the job's overlap is `allow`, and start in slot order. A tenant's backfill counts with its
 * one-offs against the pending caps; the input's `beforeCreate` runs once all checks passed.
 */
export async function backfillSlots(
  ctx: SchedulerContext,
  jobs: Jobs,
  input: BackfillInput,
  hooks: BackfillHooks,
): Promise<BackfillResult> {
  const parsed = parse(backfillInputSchema, input);
  const now = ctx.clock.now();
  const { job, slots } = await backfillPlan(parsed, now, jobs);
  if (slots.length === 0) return { created: [], skipped: 0 };
  const policy = retryPolicyOf(job, ctx.registry);
  const runs = slots.map((slot) =>
    buildRun({
      job,
      executor: null,
      tenantId: job.tenantId,
      trigger: 'backfill',
      // Due since its slot, as catch-up runs of misfire `all` are: the claim order is the slot order.
      runAt: slot,
      now,
      params: {},
      triggeredBy: parsed.triggeredBy ?? null,
      overlap: job.overlap === 'allow' ? 'allow' : 'queue',
      scheduledFor: slot,
      dedupeKey: `slot:${job.id}:${slot.toISOString()}`,
      maxAttempts: 1 + (policy?.limit ?? 0),
      timeoutMs: job.timeoutMs,
    }),
  );
  const outcomes: (Run | null)[] = runs.map(() => null);
  const create = async () => {
    await parsed.beforeCreate?.({ job, executor: null, tenantId: job.tenantId, slots: [...slots] });
    let next = 0;
    const lane = async () => {
      for (let index = next++; index < runs.length; index = next++) {
        const run = runs[index] as NewRun;
        const result = await storeCall('createRun', () =>
          ctx.store.createRun({ run, now, rejectIfActive: false }),
        );
        if (result.created) {
          outcomes[index] = result.run;
          hooks.onCreated(result.run);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(BACKFILL_LANES, runs.length) }, lane));
  };
  await hooks.admit(runs[0] as NewRun, `job "${job.name}"`, create, runs.length);
  const created = outcomes.filter((run): run is Run => run !== null);
  return { created, skipped: slots.length - created.length };
}

/** The job and the slots a backfill would fill, or a `ValidationError` naming what is out of bounds. */
async function backfillPlan(
  parsed: {
    job: string;
    tenantId?: string | null | undefined;
    from: Date;
    to: Date;
    limit?: number | undefined;
  },
  now: Date,
  jobs: Jobs,
): Promise<{ job: Job; slots: Date[] }> {
  if (parsed.to.getTime() <= parsed.from.getTime()) throw ValidationError.field('to', 'must be after `from`');
  if (parsed.to.getTime() > now.getTime())
    throw ValidationError.field(
      'to',
      `must not be in the future (now is ${now.toISOString()}): later slots fire on their own`,
    );
  const oldest = now.getTime() - BACKFILL_MAX_LOOKBACK_DAYS * DAY_MS;
  if (parsed.from.getTime() < oldest)
    throw ValidationError.field(
      'from',
      `must be at most ${BACKFILL_MAX_LOOKBACK_DAYS} days ago (not before ${new Date(oldest).toISOString()})`,
    );
  const job = await jobs.get(parsed.job, { tenantId: parsed.tenantId ?? null });
  const limit = parsed.limit ?? 100;
  const slots: Date[] = [];
  for (let slot = nextSlot(job, new Date(parsed.from.getTime() - 1)); slot && slot < parsed.to; ) {
    if (slots.length === limit)
      throw ValidationError.field(
        'limit',
        `the range holds more than ${limit} slots of "${job.name}"; narrow it or raise limit (at most 1000)`,
      );
    slots.push(slot);
    slot = nextSlot(job, slot);
  }
  return { job, slots };
}
