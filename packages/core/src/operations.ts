import type { BackfillInput, BackfillResult, PreviewInput, PreviewResult } from './api.js';
import type { SchedulerContext } from './context.js';
import { storeCall, ValidationError } from './errors.js';
import type { Jobs } from './jobs.js';
import { nextSlot } from './planning.js';
import { retryPolicyOf } from './retry.js';
import { buildRun } from './run-factory.js';
import { parseSchedule } from './schedule.js';
import type { Run } from './types.js';
import { backfillInputSchema, parse, previewInputSchema } from './validation.js';

/** Runs `backfill` creates at once: enough to overlap round trips, few enough to spare the pool. */
const BACKFILL_LANES = 8;

/** The next instants of a schedule after `from` (default now) and its description. */
export function previewSchedule(
  input: PreviewInput,
  defaults: { timezone: string; now: Date },
): PreviewResult {
  const parsed = parse(previewInputSchema, input);
  const schedule = parseSchedule(parsed.schedule, { timezone: parsed.timezone ?? defaults.timezone });
  const count = parsed.count ?? 5;
  const next: Date[] = [];
  for (let after = parsed.from ?? defaults.now; next.length < count; ) {
    const instant = schedule.next(after);
    if (!instant) break;
    next.push(instant);
    after = instant;
  }
  return { next, description: schedule.describe(parsed.locale) };
}

/**
 * One run per slot of a job in `[from, to)`, each carrying the slot's dedupe key: a slot that has a
 * run — fired by the loop, or backfilled before, by any instance — is skipped, since the store
 * creates a dedupe key once. Runs queue behind each other (and behind a running run of the job)
 * unless the job's overlap is `allow`, and start in slot order.
 */
export async function backfillSlots(
  ctx: SchedulerContext,
  jobs: Jobs,
  input: BackfillInput,
  onCreated: (run: Run) => void,
): Promise<BackfillResult> {
  const parsed = parse(backfillInputSchema, input);
  const now = ctx.clock.now();
  if (parsed.to.getTime() <= parsed.from.getTime()) throw ValidationError.field('to', 'must be after `from`');
  if (parsed.to.getTime() > now.getTime())
    throw ValidationError.field(
      'to',
      `must not be in the future (now is ${now.toISOString()}): later slots fire on their own`,
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
  const policy = retryPolicyOf(job, ctx.registry);
  const outcomes: (Run | null)[] = slots.map(() => null);
  let next = 0;
  const lane = async () => {
    for (let index = next++; index < slots.length; index = next++) {
      const slot = slots[index] as Date;
      const run = buildRun({
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
      });
      const result = await storeCall('createRun', () =>
        ctx.store.createRun({ run, now, rejectIfActive: false }),
      );
      if (result.created) {
        outcomes[index] = result.run;
        onCreated(result.run);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(BACKFILL_LANES, slots.length) }, lane));
  const created = outcomes.filter((run): run is Run => run !== null);
  return { created, skipped: slots.length - created.length };
}
