import { ConflictError, type JobInput, type Scheduler } from '@cronkeeper/core';
import type { SlotWindow } from './invariants.js';

/**
 * The mixed workload: cron jobs firing every second (some slow, some failing with retries), plus
 * manual triggers, one-offs and cancellations sent by a driver scheduler in the test process
 * (created, never started: it only writes to the store, as a web process would).
 */

const EVERY_SECOND = '* * * * * *';
// Jobs that exist only to be triggered: their own slot is far away.
const YEARLY = '0 0 1 1 *';

/** A small seeded generator, so a failing run can be replayed with the seed it printed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const OVERLAPS = ['skip', 'queue', 'allow'] as const;
/** Each exclusive every-second job runs for 200–499 ms (fixed per job). */
const EXCLUSIVE_MS_MIN = 200;
const EXCLUSIVE_MS_SPREAD = 300;

/** The cron jobs: `cronJobs` quick ones plus slow and failing ones; every slot must fire (misfire `all`). */
export function cronJobs(cronJobCount: number): JobInput[] {
  // misfire `all` with a generous limit: slots missed while the database was away are caught up,
  // so "every slot fired" holds through every fault, not only in calm weather.
  const common = { misfire: 'all', catchUpLimit: 1000 } as const;
  const jobs: JobInput[] = Array.from({ length: cronJobCount }, (_, index) => {
    const overlap = OVERLAPS[index % OVERLAPS.length];
    return {
      ...common,
      name: `cron-${String(index).padStart(2, '0')}`,
      schedule: EVERY_SECOND,
      executor: 'tick',
      overlap,
      // Exclusive jobs run for hundreds of ms, so that a second run of one of them started by
      // mistake would overlap the first in the executor ledger, not slip in between two blips.
      params: { ms: overlap === 'allow' ? 5 : EXCLUSIVE_MS_MIN + ((index * 37) % EXCLUSIVE_MS_SPREAD) },
    };
  });
  jobs.push(
    { ...common, name: 'slow-skip', schedule: EVERY_SECOND, executor: 'slow', params: { ms: 1500 } },
    {
      ...common,
      name: 'slow-queue',
      schedule: '*/2 * * * * *',
      executor: 'slow',
      params: { ms: 700 },
      overlap: 'queue',
    },
    { ...common, name: 'flaky-cron', schedule: EVERY_SECOND, executor: 'flaky', overlap: 'allow' },
    { ...common, name: 'doomed-cron', schedule: '*/3 * * * * *', executor: 'doomed' },
  );
  return jobs;
}

/** An exclusive job of 6 s runs, triggered by the server-pause fault, retried at once when it fails. */
export const LONG_TARGET = 'long-target';

/** Jobs the driver triggers by hand. */
const TARGET_JOBS: JobInput[] = [
  { name: 'manual-target', schedule: YEARLY, executor: 'slow', params: { ms: 400 }, overlap: 'queue' },
  { name: 'oneoff-target', schedule: YEARLY, executor: 'tick', params: { ms: 250 }, overlap: 'skip' },
  // Outlasts a server pause: its worker must give it up before the retry may start elsewhere.
  {
    name: LONG_TARGET,
    schedule: YEARLY,
    executor: 'slow',
    params: { ms: 6_000 },
    overlap: 'queue',
    retry: { limit: 1, backoff: { type: 'fixed', delay: 0 } },
  },
];

export interface WorkloadCounts {
  triggers: number;
  conflicts: number;
  oneOffs: number;
  cancels: number;
  cancelConflicts: number;
}

interface JobWindow {
  from: Date;
  /** The job's `nextRunAt` read just before the pause was asked for: every earlier slot had fired. */
  nextAtPause?: Date | null;
  pauseStarted?: Date;
  pausedAt?: Date;
}

export class Workload {
  readonly windows = new Map<string, JobWindow>();
  readonly counts: WorkloadCounts = { triggers: 0, conflicts: 0, oneOffs: 0, cancels: 0, cancelConflicts: 0 };
  readonly #random: () => number;
  #cancellable: string[] = [];

  constructor(
    readonly driver: Scheduler,
    readonly options: { cronJobs: number; seed: number },
  ) {
    this.#random = seededRandom(options.seed);
  }

  /** Create every job; each cron job's window opens at its creation. */
  async createJobs(): Promise<void> {
    for (const input of [...cronJobs(this.options.cronJobs), ...TARGET_JOBS]) {
      const job = await this.driver.jobs.create(input);
      if (input.schedule !== YEARLY) this.windows.set(job.name, { from: job.createdAt });
    }
  }

  /** Send manual triggers, one-offs and cancellations until `until` (epoch ms). */
  async drive(until: number, stepMs = 150): Promise<void> {
    while (Date.now() < until) {
      await this.#step();
      await new Promise((resolve) => setTimeout(resolve, stepMs * (0.5 + this.#random())));
    }
  }

  async #step(): Promise<void> {
    const roll = this.#random();
    const now = Date.now();
    try {
      if (roll < 0.25) {
        this.counts.triggers++;
        const run = await this.driver.trigger({ job: 'manual-target', triggeredBy: 'chaos' });
        this.#cancellable.push(run.id);
      } else if (roll < 0.35) {
        this.counts.triggers++;
        await this.driver.trigger({ job: 'manual-target', force: true, triggeredBy: 'chaos' });
      } else if (roll < 0.55) {
        this.counts.triggers++;
        await this.driver.trigger({ executor: 'flaky', params: { failures: roll < 0.45 ? 1 : 2 } });
      } else if (roll < 0.8) {
        this.counts.oneOffs++;
        const at = new Date(now + 300 + Math.floor(this.#random() * 1700));
        const run =
          roll < 0.7
            ? await this.driver.schedule({ job: 'oneoff-target', at, createdBy: 'chaos' })
            : await this.driver.schedule({ executor: 'slow', at, params: { ms: 600 } });
        this.#cancellable.push(run.id);
      } else {
        const runId = this.#cancellable.splice(Math.floor(this.#random() * this.#cancellable.length), 1)[0];
        if (!runId) return;
        this.counts.cancels++;
        await this.driver.cancel(runId, { by: 'chaos' });
      }
    } catch (error) {
      // Conflicts are the API saying "already running" / "already ended": expected under load.
      if (!(error instanceof ConflictError)) throw error;
      if (roll < 0.8) this.counts.conflicts++;
      else this.counts.cancelConflicts++;
    }
  }

  /** Pause every cron job: no slot after this fires, and the workers can drain. */
  async pauseAll(): Promise<void> {
    await Promise.all(
      [...this.windows].map(async ([name, window]) => {
        window.nextAtPause = (await this.driver.jobs.get(name)).nextRunAt;
        window.pauseStarted = new Date();
        await this.driver.jobs.pause(name, 'chaos run over');
        window.pausedAt = new Date();
      }),
    );
  }

  /**
   * The slot windows to check. Every slot before the job's `nextRunAt` as read just before the
   * pause had fired (the store creates a slot's run before it advances `nextRunAt`), so it must
   * exist; so must every slot due more than `fireLagMs` before the pause, however far behind the
   * workers were. Only slots due in the last `fireLagMs` and not yet fired when the pause was read
   * may be unfired. No slot after the pause (plus the largest clock skew of an instance, which may
   * fire a slot early) may exist.
   */
  slotWindows(fireLagMs: number, maxSkewAheadMs = 0): SlotWindow[] {
    return [...this.windows].map(([jobName, window]) => {
      if (!window.pausedAt || !window.pauseStarted) throw new Error(`job ${jobName} was not paused`);
      const lagBound = window.pauseStarted.getTime() - fireLagMs;
      const firedBefore = window.nextAtPause ? window.nextAtPause.getTime() - 1 : lagBound;
      return {
        jobName,
        from: window.from,
        mustUntil: new Date(Math.max(lagBound, firedBefore)),
        pauseAskedAt: window.pauseStarted,
        mayUntil: new Date(window.pausedAt.getTime() + maxSkewAheadMs),
      };
    });
  }
}
