import type { SchedulerContext } from './context.js';
import { executeRun, type RunAbort, type RunControls } from './execution.js';
import { planFiring } from './planning.js';
import { retryPolicyOf } from './retry.js';
import { buildRetry, buildRun } from './run-factory.js';
import type { Job, Run } from './types.js';

const DUE_BATCH = 100;
const RECOVERY_BATCH = 100;
/** Due jobs fired at once per tick: enough to hide round trips, few enough not to hog a pool. */
const FIRE_LANES = 8;

/**
 * The scheduler's work, one store step at a time: find due jobs → fire their slots → recover runs
 * whose worker vanished → claim runs → execute them. Both the background loop and `runDue()` drive it.
 */
export class Engine {
  /** Runs executing on this instance, with the handle that aborts each. */
  readonly active = new Map<string, { done: Promise<Run | null>; controls: RunControls | null }>();
  /**
   * Jobs this instance fired in the current tick, by id: a run claimed right after its job fired
   * here takes the job as just read instead of reading it again (one round trip per firing).
   * Cleared at each `fireDue`, so it never holds a copy older than a tick.
   */
  #fired = new Map<string, Job>();

  constructor(
    private readonly ctx: SchedulerContext,
    private readonly options: { abortGraceMs: number; random: () => number; onRunSettled: () => void },
  ) {}

  /**
   * Fire every due slot; returns the runs created. Losing a race to another instance is normal.
   * `onFired` is told each time a slot created runs, so that the caller can claim them at once.
   */
  async fireDue(now: Date, onFired?: () => void): Promise<Run[]> {
    const created: Run[] = [];
    this.#fired = new Map();
    for (;;) {
      const jobs = await this.ctx.store.findDueJobs({ now, limit: DUE_BATCH });
      // A store may read its time index and the job records in two steps: a job fired or paused
      // by another instance in between comes back not due, and must not fire (early, or at all).
      const due = jobs.filter(
        (job) => job.enabled && job.nextRunAt && job.nextRunAt.getTime() <= now.getTime(),
      );
      // Each fireSlot is atomic on its own job, so a burst of due jobs is fired FIRE_LANES at a
      // time: one by one, the last of 100 due jobs would wait for 99 store round trips first.
      // Instances walk the due jobs from different places: in the same order, every instance would
      // queue on the same job's row lock and lose the race for it, slot after slot.
      const offset = Math.floor(this.options.random() * due.length);
      let next = 0;
      const lane = async () => {
        for (let index = next++; index < due.length; index = next++) {
          const runs = await this.#fire(due[(index + offset) % due.length] as Job, now);
          if (runs.length === 0) continue;
          created.push(...runs);
          onFired?.();
        }
      };
      await Promise.all(Array.from({ length: Math.min(FIRE_LANES, due.length) }, lane));
      if (jobs.length < DUE_BATCH) return created;
    }
  }

  async #fire(job: Job, now: Date): Promise<Run[]> {
    let plan: ReturnType<typeof planFiring>;
    try {
      plan = planFiring(job, now);
    } catch (error) {
      // A schedule edited behind our back into something invalid: stop firing it and say so,
      // rather than failing every tick.
      this.ctx.reportError(`plan job "${job.name}"`, error);
      await this.ctx.store.fireSlot({
        jobId: job.id,
        expectedNextRunAt: job.nextRunAt as Date,
        nextRunAt: null,
        runs: [],
        now,
      });
      return [];
    }
    const policy = retryPolicyOf(job, this.ctx.registry);
    // Catch-up runs of misfire `all` wait for each other rather than skip each other.
    const overlap = plan.slots.length > 1 && job.overlap === 'skip' ? 'queue' : job.overlap;
    const runs = plan.slots.map((slot) =>
      buildRun({
        job,
        executor: null,
        tenantId: job.tenantId,
        trigger: 'schedule',
        runAt: new Date(slot.getTime() + Math.floor(this.options.random() * job.jitterMs)),
        now,
        params: {},
        triggeredBy: null,
        overlap,
        scheduledFor: slot,
        dedupeKey: `slot:${job.id}:${slot.toISOString()}`,
        maxAttempts: 1 + (policy?.limit ?? 0),
        timeoutMs: job.timeoutMs,
      }),
    );
    const result = await this.ctx.store.fireSlot({
      jobId: job.id,
      expectedNextRunAt: job.nextRunAt as Date,
      nextRunAt: plan.nextRunAt,
      runs,
      now,
    });
    if (result.advanced && plan.dropped > 0) {
      this.ctx.logger.info(
        { job: job.name, trigger: 'schedule' },
        `${job.name}: ${plan.dropped} missed slot(s) not run (misfire policy "${job.misfire}")`,
      );
    }
    if (result.created.length > 0) this.#fired.set(job.id, job);
    for (const run of result.created) this.ctx.emitRun('run:created', run);
    return result.created;
  }

  /** Fail (or retry) running runs whose lease lapsed: their worker died or lost the store. */
  async recover(now: Date): Promise<Run[]> {
    const recovered: Run[] = [];
    const expired = await this.ctx.store.findExpiredLeases({ now, limit: RECOVERY_BATCH });
    for (const run of expired) {
      // A run executing here is alive whatever its lease says (in fake time the clock can jump
      // past it between two heartbeats); renew it instead of failing it.
      if (this.active.has(run.id)) {
        await this.ctx.store.renewLease({
          runId: run.id,
          workerId: this.ctx.instanceId,
          now,
          leaseMs: this.ctx.leaseMs,
        });
        continue;
      }
      const job = run.jobId ? await this.ctx.store.getJob(run.jobId) : null;
      const policy = retryPolicyOf(job ?? { retry: null, tasks: run.tasks }, this.ctx.registry);
      const followUp = policy && run.attempt < run.maxAttempts ? buildRetry(run, policy, now) : null;
      const finished = await this.ctx.store.finishRun({
        runId: run.id,
        fence: 'expired',
        now,
        status: 'failed',
        result: null,
        error: {
          code: 'stale',
          message: `worker ${run.workerId} stopped renewing its lease (expired ${run.leaseUntil?.toISOString()})`,
        },
        followUp,
      });
      if (!finished) continue;
      this.ctx.logger.warn(
        { runId: run.id, trigger: run.trigger, job: run.jobName },
        `${run.jobName ?? run.executor}: run ${run.id} recovered as failed (stale)${followUp ? '; retry scheduled' : ''}`,
      );
      this.ctx.emitRun('run:failed', finished);
      recovered.push(finished);
    }
    return recovered;
  }

  /** Claim up to `limit` runs for this instance; emits `run:skipped` for overlap skips. */
  async claim(now: Date, limit: number): Promise<Run[]> {
    if (limit <= 0) return [];
    const { claimed, skipped } = await this.ctx.store.claimRuns({
      workerId: this.ctx.instanceId,
      now,
      limit,
      leaseMs: this.ctx.leaseMs,
    });
    for (const run of skipped) {
      this.ctx.logger.info(
        { runId: run.id, trigger: run.trigger, job: run.jobName },
        `${run.jobName ?? run.executor}: slot skipped, a run is still running (overlap "skip")`,
      );
      this.ctx.emitRun('run:skipped', run);
    }
    return claimed;
  }

  /** Execute a claimed run; settles with the finished run (null if this worker lost it). */
  execute(run: Run): Promise<Run | null> {
    const entry: { done: Promise<Run | null>; controls: RunControls | null } = {
      done: Promise.resolve(null),
      controls: null,
    };
    this.active.set(run.id, entry);
    entry.done = (async () => {
      try {
        const job = run.jobId
          ? (this.#fired.get(run.jobId) ?? (await this.ctx.store.getJob(run.jobId)))
          : null;
        return await executeRun(this.ctx, run, {
          job,
          retry: retryPolicyOf(job ?? { retry: null, tasks: run.tasks }, this.ctx.registry),
          abortGraceMs: this.options.abortGraceMs,
          onControls: (controls) => {
            entry.controls = controls;
          },
        });
      } catch (error) {
        // The run stays `running` until its lease lapses and recovery fails it: nothing is lost.
        this.ctx.reportError(`execute run ${run.id}`, error);
        return null;
      } finally {
        this.active.delete(run.id);
        this.options.onRunSettled();
      }
    })();
    return entry.done;
  }

  /** Abort a run executing here (local cancel, shutdown). False when it is not running here. */
  abort(runId: string, reason: RunAbort): boolean {
    const controls = this.active.get(runId)?.controls;
    if (!controls) return false;
    controls.abort(reason);
    return true;
  }

  /** Heartbeat a run executing here now, so a cancel asked on another instance lands at once. */
  renewNow(runId: string): void {
    this.active
      .get(runId)
      ?.controls?.renew()
      .catch((error) => this.ctx.reportError('renewLease', error));
  }
}
