import type { SchedulerContext } from './context.js';
import type { LEASE_HOLD_SHARE } from './execution.js';
import { retryPolicyOf } from './retry.js';
import { buildRetry } from './run-factory.js';
import type { Job, Run } from './types.js';

const RECOVERY_BATCH = 100;
/**
 * A lease this instance did not watch go unrenewed (it came up after the lapse, or a serverless
 * process calls `runDue()` once) is taken over once it lapsed this many leases ago by this
 * instance's clock: clocks up to about that far apart cannot make it take over a live run.
 */
const UNWATCHED_LAPSE_LEASES = 2;
/** A lease of another instance's run as this instance last read it. */
interface LeaseSeen {
  /** The run's `leaseUntil` (ms); a renewal changes it. */
  leaseUntil: number;
  /** Clock reading (ms) at which this instance first read that value. */
  since: number;
  /** When the run may be taken over if the value has not changed by then. */
  takeoverAt: number;
}

/**
 * Stale-run recovery: watches other instances' leases and fails (or retries) the runs whose worker
 * stopped renewing them. One per scheduler; the engine drives it from the loop and `runDue()`.
 */
export class LeaseRecovery {
  /** The leases of other instances' running runs as this instance last read them, by run id. */
  #leasesSeen = new Map<string, LeaseSeen>();

  constructor(
    private readonly ctx: SchedulerContext,
    /** Whether a run executes on this instance: its lease is renewed, never taken over. */
    private readonly isExecutingHere: (runId: string) => boolean,
  ) {}

  /**
   * Fail (or retry) running runs whose worker died or lost the store. A run is taken over when its
   * lease lapsed by this instance's clock and, on top of that, either this instance has seen the
   * same lease, unrenewed, for a whole lease of its own clock, or the lease lapsed more than
   * {@link UNWATCHED_LAPSE_LEASES} leases ago. Its worker gives a run up after
   * {@link LEASE_HOLD_SHARE} of a lease without a renewal (see `executeRun`), so by the time a run
   * is taken over here its executor has been aborted, even when this instance's clock runs far
   * ahead of the worker's: the rule compares a lease with itself over time, never two clocks.
   * Every running run is read (every lease lapses within one lease), to start watching each lease
   * as soon as it is written.
   */
  async recover(now: Date): Promise<Run[]> {
    const { leaseMs } = this.ctx;
    const leases = await this.ctx.store.findExpiredLeases({
      // Leases ending before the bound are found: one written at this very instant ends one
      // lease from now, and is watched from now on too.
      now: new Date(now.getTime() + leaseMs + 1),
      limit: RECOVERY_BATCH,
    });
    // Read after the answer: a lease written while the query ran is not taken as older than it is.
    const seenAt = this.ctx.clock.now().getTime();
    const seen = new Map<string, LeaseSeen>();
    const lapsed: Run[] = [];
    for (const run of leases) {
      const leaseUntil = run.leaseUntil?.getTime() ?? Number.NEGATIVE_INFINITY;
      if (this.isExecutingHere(run.id)) {
        // Executing here: alive whatever its lease says (in fake time the clock can jump past it
        // between two heartbeats). Renew it instead of failing it.
        if (leaseUntil < now.getTime())
          await this.ctx.store.renewLease({ runId: run.id, workerId: this.ctx.instanceId, now, leaseMs });
        continue;
      }
      const previous = this.#leasesSeen.get(run.id);
      const since = previous?.leaseUntil === leaseUntil ? previous.since : seenAt;
      // Lapsed by this clock, and watched unrenewed for a whole lease.
      const takeoverAt = Math.max(since + leaseMs, leaseUntil + 1);
      seen.set(run.id, { leaseUntil, since, takeoverAt });
      if (now.getTime() >= takeoverAt || leaseUntil < now.getTime() - UNWATCHED_LAPSE_LEASES * leaseMs)
        lapsed.push(run);
    }
    this.#leasesSeen = seen;
    // All at once: the finishes then leave together (see FinishBatcher) and each job is read once,
    // so recovering a crashed instance's runs costs a few round trips, not two per run.
    const jobs = new Map<string, Promise<Job | null>>();
    const jobOf = (jobId: string) => {
      let job = jobs.get(jobId);
      if (!job) {
        job = this.ctx.store.getJob(jobId);
        jobs.set(jobId, job);
      }
      return job;
    };
    const recovered = await Promise.all(lapsed.map((run) => this.#recoverOne(run, now, jobOf)));
    return recovered.filter((run): run is Run => run !== null);
  }

  /**
   * When (clock ms) the first lease this instance watches may be taken over, so the loop can look
   * again then rather than up to half a lease later; null when it watches none.
   */
  nextTakeoverAt(): number | null {
    let earliest: number | null = null;
    for (const { takeoverAt } of this.#leasesSeen.values())
      if (earliest === null || takeoverAt < earliest) earliest = takeoverAt;
    return earliest;
  }

  async #recoverOne(run: Run, now: Date, jobOf: (jobId: string) => Promise<Job | null>): Promise<Run | null> {
    const job = run.jobId ? await jobOf(run.jobId) : null;
    const policy = retryPolicyOf(job ?? { retry: null, tasks: run.tasks }, this.ctx.registry);
    const followUp = policy && run.attempt < run.maxAttempts ? buildRetry(run, policy, now) : null;
    const finished = await this.ctx.finishRun({
      runId: run.id,
      fence: 'expired',
      now,
      status: 'failed',
      result: null,
      error: {
        code: 'stale',
        // No instance id here: tenants read this message, and the run's workerId keeps it for operators.
        message: `the instance running it stopped renewing its lease (expired ${run.leaseUntil?.toISOString()})`,
      },
      followUp,
    });
    if (!finished) return null;
    this.ctx.telemetry.leaseRecovered(finished);
    this.ctx.logger.warn(
      { runId: run.id, trigger: run.trigger, job: run.jobName },
      `${run.jobName ?? run.executor}: run ${run.id} recovered as failed (stale)${followUp ? '; retry scheduled' : ''}`,
    );
    this.ctx.emitRun('run:failed', finished);
    return finished;
  }
}
