import { parseSchedule, type Schedule } from './schedule.js';
import { DATE_RANGE } from './storable.js';
import type { Job } from './types.js';

const schedules = new Map<string, Schedule>();
const MAX_CACHED_SCHEDULES = 10_000;

/** The parsed schedule of a job, cached: the loop evaluates the same few expressions all day. */
export function scheduleOf(job: Pick<Job, 'schedule' | 'timezone'>): Schedule {
  const key = `${job.timezone}\u0000${job.schedule}`;
  let schedule = schedules.get(key);
  if (!schedule) {
    schedule = parseSchedule(job.schedule, { timezone: job.timezone });
    if (schedules.size >= MAX_CACHED_SCHEDULES) schedules.clear();
    schedules.set(key, schedule);
  }
  return schedule;
}

type Window = Pick<Job, 'activeFrom' | 'activeUntil'>;

/**
 * The schedule's first time strictly after `after`, or null when it has none a store can hold: a
 * job's times end on 9999-12-31 (UTC), the last instant every store holds alike.
 */
export function nextTime(job: Pick<Job, 'schedule' | 'timezone'>, after: Date): Date | null {
  const time = scheduleOf(job).next(after);
  return time && time.getTime() <= DATE_RANGE.max.getTime() ? time : null;
}

/** The first slot strictly after `after` that lies in the job's active window, or null. */
export function nextSlot(job: Pick<Job, 'schedule' | 'timezone'> & Window, after: Date): Date | null {
  const from =
    job.activeFrom && job.activeFrom.getTime() > after.getTime()
      ? new Date(job.activeFrom.getTime() - 1)
      : after;
  const slot = nextTime(job, from);
  if (!slot) return null;
  if (job.activeUntil && slot.getTime() > job.activeUntil.getTime()) return null;
  return slot;
}

/** The slots to run now and the job's next slot after them. */
export interface FiringPlan {
  /** Slots that get a run, oldest first. */
  slots: Date[];
  /** How many due slots were dropped by the misfire policy or the grace. */
  dropped: number;
  nextRunAt: Date | null;
  /**
   * True when `nextRunAt` is null because the schedule itself yields no later time (not because
   * the active window ended): the job would stop firing for good, so the caller must report it.
   */
  exhausted: boolean;
}

// Past this many due slots we stop walking one by one and jump close to `now`: a minutely job
// down for a year must not cost half a million evaluations, and only the newest slots can run.
const WALK_LIMIT = 2_000;

/**
 * Where a long walk may jump to: the latest instant after `cursorMs` from which `keep` slots are
 * still due by `nowMs`, or null. The average spacing only gives the first guess: a schedule with
 * quiet hours (weekdays 9-17) may have no slot at all just before `now`, and a jump past its
 * newest slots would leave nothing to run, so the reach doubles until the slots are there.
 */
function jumpPoint(job: Job, cursorMs: number, nowMs: number, reach: number, keep: number): number | null {
  for (let back = reach; nowMs - back > cursorMs; back *= 2) {
    const from = nowMs - back;
    let found = 0;
    for (let at: Date | null = nextSlot(job, new Date(from)); at && at.getTime() <= nowMs; ) {
      if (++found === keep) return from;
      at = nextSlot(job, at);
    }
  }
  return null;
}

/**
 * Due slots of `job` in [job.nextRunAt, now], newest `keep` of them, and the count of all.
 * `following` is the slot after the newest one, which the walk evaluates anyway to see that it is
 * not due (undefined when the walk jumped past its last slot, so it did not evaluate that).
 */
function dueSlots(
  job: Job,
  now: Date,
  keep: number,
): { slots: Date[]; total: number; following: Date | null | undefined } {
  const first = job.nextRunAt as Date;
  const nowMs = now.getTime();
  const slots: Date[] = [first];
  let total = 1;
  let cursor = first;
  let steps = 0;
  let following: Date | null | undefined;
  for (;;) {
    const next = nextSlot(job, cursor);
    if (!next || next.getTime() > nowMs) {
      following = cursor === slots[slots.length - 1] ? next : undefined;
      break;
    }
    steps++;
    total++;
    slots.push(next);
    if (slots.length > keep) slots.shift();
    cursor = next;
    if (steps === WALK_LIMIT) {
      const spacing = Math.max((cursor.getTime() - first.getTime()) / steps, 1);
      const jumpTo = jumpPoint(job, cursor.getTime(), nowMs, spacing * (keep + 2), keep);
      if (jumpTo !== null) {
        total += Math.floor((jumpTo - cursor.getTime()) / spacing);
        slots.length = 0;
        cursor = new Date(jumpTo);
      }
    }
  }
  return { slots, total, following };
}

/**
 * Decide which due slots of `job` run at `now`, per its misfire policy:
 * - `once`: the newest due slot runs (missed ones coalesce into it);
 * - `skip`: a lone due slot runs (it is merely late); when slots were missed, none runs;
 * - `all`: every due slot runs, the newest `catchUpLimit` of them.
 * Slots later than `misfireGraceMs` never run. `nextRunAt` is always a slot of the plan: a job
 * fired ahead of time (`nextRunAt > now`) plans that one slot, which is not late.
 */
export function planFiring(job: Job, now: Date): FiringPlan {
  const keep = job.misfire === 'all' ? job.catchUpLimit : 1;
  const { slots, total, following } = dueSlots(job, now, keep);
  const newest = slots[slots.length - 1] as Date;
  // No slot lies in (newest, now], so the slot after the newest is also the first after now: reuse
  // it rather than evaluate the schedule a second time (this halves the cron math of a firing).
  const after = newest.getTime() > now.getTime() ? newest : now;
  const nextRunAt = following !== undefined ? following : nextSlot(job, after);
  const exhausted = nextRunAt === null && nextTime(job, after) === null;
  const grace = job.misfireGraceMs;
  let chosen = grace === null ? slots : slots.filter((slot) => now.getTime() - slot.getTime() <= grace);
  if (job.misfire === 'skip' && total > 1) chosen = [];
  return { slots: chosen, dropped: total - chosen.length, nextRunAt, exhausted };
}
