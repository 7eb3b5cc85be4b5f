import type { SchedulerContext } from './context.js';
import { ValidationError } from './errors.js';
import { executeRun, type RunAbort, type RunControls } from './execution.js';
import type { ClaimAlong } from './finish-batcher.js';
import { type BatchJobs, JobLookups } from './job-lookups.js';
import { planFiring } from './planning.js';
import { LeaseRecovery } from './recovery.js';
import { retryPolicyOf } from './retry.js';
import { buildSlotRun, concurrencyKeyOf, skippedRun } from './run-factory.js';
import type {
  ClaimResult,
  FinishRunInput,
  FireAndClaimResult,
  FireSlotInput,
  FireSlotResult,
} from './store.js';
import type { Job, Run } from './types.js';

const DUE_BATCH = 100;
/**
 * A burst of due jobs is fired in chunks of this many per store call, up to `FIRE_LANES` calls at
 * once, so a full page of due jobs (`DUE_BATCH`) leaves in one wave. One call for the whole burst
 * would start its first run only when its last slot is written; one call per job would make the
 * last of 100 jobs wait for 99 round trips; and small chunks make instances that fire the same
 * burst send more statements that find their jobs already fired by the other.
 */
const FIRE_CHUNK = 25;
const FIRE_LANES = 4;

/**
 * The scheduler's work, one store step at a time: find due jobs → fire their slots → recover runs
 * whose worker vanished → claim runs → execute them. Both the background loop and `runDue()` drive it.
 */
export class Engine {
  /** Runs executing on this instance, with the handle that aborts each. */
  readonly active = new Map<string, { run: Run; done: Promise<Run | null>; controls: RunControls | null }>();
  /** The jobs claimed runs execute with: the due burst's copies, or read per claimed batch. */
  readonly #jobs: JobLookups;
  /** Slots promised to claims in flight: a run they bring back takes one. */
  #reserved = 0;
  /** Runs whose finish went out with a claim for their slot: that slot is being refilled already. */
  #refilled = new Set<string>();
  /** Runs this instance fired ahead of their slot and has not started, by id: their `runAt` (ms). */
  #firedAhead = new Map<string, number>();
  /**
   * The latest clock reading (ms) a claim answered for: every run due by then that a claim could
   * take was taken. A run that comes due after a claim was sent is not, even if the answer comes
   * after its `runAt`; the loop looks for what came due from here, not from its own clock reading.
   */
  claimedThrough = Number.NEGATIVE_INFINITY;
  /** Stale-run recovery; it renews, never takes over, the leases of runs executing here. */
  readonly recovery: LeaseRecovery;

  constructor(
    private readonly ctx: SchedulerContext,
    private readonly options: {
      abortGraceMs: number;
      random: () => number;
      /** Runs this instance executes at once at most. */
      concurrency: number;
      /** Whether finishing runs may claim runs for their slots (the loop runs). */
      refills: () => boolean;
      /** A run ended without a claim for its slot: the caller may claim for it. */
      onRunSettled: () => void;
    },
  ) {
    this.recovery = new LeaseRecovery(ctx, (runId) => this.active.has(runId));
    this.#jobs = new JobLookups(ctx.store, (error) => ctx.reportError('getJobs', error));
  }

  /** Slots free for a claim now: neither executing a run nor promised to a claim in flight. */
  room(): number {
    return this.options.concurrency - this.active.size - this.#reserved;
  }

  /**
   * The claim to send with a batch of finishes (see `FinishBatcher`): when runs executing here
   * finish, their slots go to the next due runs in the same store call instead of waiting for a
   * claim of their own. Null when the batch frees no slot of this instance, or the loop is stopped.
   */
  planClaim(batch: readonly FinishRunInput[]): ClaimAlong | null {
    if (!this.options.refills()) return null;
    const freed = batch.filter(
      (input) =>
        input.fence !== 'expired' &&
        input.fence.workerId === this.ctx.instanceId &&
        this.active.has(input.runId) &&
        !this.#refilled.has(input.runId),
    );
    // Those runs still count in `active` until their finish is answered.
    const limit = this.room() + freed.length;
    if (freed.length === 0 || limit <= 0) return null;
    this.#reserved += limit;
    for (const input of freed) this.#refilled.add(input.runId);
    const heldSince = performance.now();
    const now = this.ctx.clock.now();
    return {
      input: { workerId: this.ctx.instanceId, now, limit, leaseMs: this.ctx.leaseMs },
      settle: (result) => {
        this.#reserved -= limit;
        if (result) {
          this.#claimAnswered(now);
          this.#started(result, heldSince);
          return;
        }
        // The call failed (the finishes report it): the slots are claimed for as the runs settle.
        for (const input of freed) this.#refilled.delete(input.runId);
      },
    };
  }

  /**
   * Fire every due slot; returns the runs created. Losing a race to another instance is normal.
   * With `onFired` (the loop's), a chunk fired while this instance has free slots claims for them
   * in the same store call (`fireAndClaim`) and starts what it claims; `onFired` is told when a
   * chunk leaves runs to claim at once: it created runs without claiming, or claimed fewer than
   * the slots it kept. With a `horizon` past `now`, slots due by the horizon are fired ahead of
   * time: their runs are created pending, to be claimed when their `runAt` comes.
   */
  async fireDue(now: Date, options: { horizon?: Date; onFired?: () => void } = {}): Promise<Run[]> {
    const { onFired } = options;
    const horizon = options.horizon ?? now;
    // Those due by now were there for the claims at their slot (which any instance may make).
    for (const [runId, runAt] of this.#firedAhead) if (runAt <= now.getTime()) this.#firedAhead.delete(runId);
    const created: Run[] = [];
    let replaced = false;
    for (;;) {
      // One job more than a page is read to learn whether another page follows: with exactly a
      // page of jobs due, a second search would find nothing, at the busiest moment of the slot.
      const page = await this.ctx.store.findDueJobs({ now: horizon, limit: DUE_BATCH + 1 });
      const more = page.length > DUE_BATCH;
      const jobs = more ? page.slice(0, DUE_BATCH) : page;
      // A store may read its time index and the job records in two steps: a job fired or paused
      // by another instance in between comes back not due, and must not fire (early, or at all).
      const due = jobs.filter(
        (job) =>
          job.enabled &&
          job.nextRunAt &&
          job.nextRunAt.getTime() <= horizon.getTime() &&
          (job.nextRunAt.getTime() <= now.getTime() || this.#mayFireAhead(job)),
      );
      if (due.length > 0 && !replaced) {
        this.#jobs.replaceDue();
        replaced = true;
      }
      for (const job of due) this.#jobs.rememberDue(job);
      // Instances walk the due jobs from different places: in the same order, every instance would
      // wait on the same jobs' row locks and lose the race for them, slot after slot.
      const offset = Math.floor(this.options.random() * due.length);
      const ordered = due.map((_, index) => due[(index + offset) % due.length] as Job);
      const chunks: Job[][] = [];
      for (let index = 0; index < ordered.length; index += FIRE_CHUNK)
        chunks.push(ordered.slice(index, index + FIRE_CHUNK));
      let next = 0;
      let advanced = 0;
      const lane = async () => {
        for (let index = next++; index < chunks.length; index = next++) {
          const fired = await this.#fire(chunks[index] as Job[], now, horizon, onFired !== undefined);
          advanced += fired.advanced;
          created.push(...fired.created);
          if (fired.claimMore) onFired?.();
        }
      };
      // Every lane settles before a failure is thrown: a lane still in flight may bring back runs
      // it claimed, and the tick (which stop() awaits) must not end before they are executing.
      const lanes = await Promise.allSettled(
        Array.from({ length: Math.min(FIRE_LANES, chunks.length) }, lane),
      );
      const failed = lanes.find((outcome) => outcome.status === 'rejected');
      if (failed) throw failed.reason;
      // A page that moved no job on would come back the same (a store whose time index disagrees
      // with its records, or jobs other instances hold): searching again would never end. The
      // rest waits for the next tick.
      if (!more || advanced === 0) return created;
    }
  }

  /**
   * Whether a job not yet due may have its slot fired ahead of time. Not an overlap-`skip` job
   * whose run executes here: whether that slot is skipped depends on whether the run is still
   * going when the slot comes, so it fires then (see `#plan`).
   */
  #mayFireAhead(job: Job): boolean {
    return job.overlap !== 'skip' || !this.#runsExclusivelyHere(concurrencyKeyOf(job, '', job.tenantId));
  }

  /**
   * Fire the due slots of `jobs` in one store call; returns the runs this instance created, how
   * many of the jobs it moved on to their next slot, and whether a claim should follow. Asked to
   * `claim` with a slot free, the same call claims and starts what it claims: a run it created
   * then starts a round trip sooner, without a claim of its own queued behind the other chunks of
   * the burst. It claims at most as many runs as it creates, so that the chunks in flight beside
   * it keep slots for theirs.
   */
  async #fire(
    jobs: Job[],
    now: Date,
    horizon: Date,
    claim: boolean,
  ): Promise<{ created: Run[]; advanced: number; claimMore: boolean }> {
    const firings = jobs.map((job) => ({ job, ...this.#plan(job, now) }));
    const inputs = firings.map(({ input }) => input);
    // Runs fired ahead of their time cannot be claimed by this call.
    const startable = inputs.reduce(
      (sum, input) => sum + input.runs.filter((run) => run.runAt.getTime() <= now.getTime()).length,
      0,
    );
    const limit = claim && this.options.refills() ? Math.min(this.room(), startable) : 0;
    let results: FireSlotResult[];
    let claimed: { result: ClaimResult; heldSince: number } | null = null;
    if (limit > 0) {
      const heldSince = performance.now();
      const claimNow = this.ctx.clock.now();
      this.#reserved += limit;
      let outcome: FireAndClaimResult;
      try {
        outcome = await this.ctx.store.fireAndClaim({
          firings: inputs,
          claim: { workerId: this.ctx.instanceId, now: claimNow, limit, leaseMs: this.ctx.leaseMs },
        });
      } finally {
        this.#reserved -= limit;
      }
      this.#claimAnswered(claimNow);
      results = outcome.fired;
      claimed = { result: outcome, heldSince };
    } else {
      results = await this.ctx.store.fireSlots(inputs);
    }
    const created: Run[] = [];
    let advanced = 0;
    try {
      firings.forEach(({ job, dropped }, index) => {
        const result = results[index];
        if (!result) return;
        if (result.advanced) advanced++;
        if (result.advanced && dropped > 0) {
          this.ctx.telemetry.slotsMissed(job.name, job.tenantId, dropped);
          this.ctx.logger.info(
            { job: job.name, trigger: 'schedule' },
            `${job.name}: ${dropped} missed slot(s) not run (misfire policy "${job.misfire}")`,
          );
        }
        for (const run of result.created) {
          this.ctx.emitRun('run:created', run);
          // (A run jittered past the horizon waits for its time as any jittered run does.)
          const runAt = run.runAt.getTime();
          if (run.status === 'pending' && runAt > now.getTime() && runAt <= horizon.getTime())
            this.#firedAhead.set(run.id, runAt);
        }
        this.#skipped(result.created.filter((run) => run.status === 'skipped'));
        created.push(...result.created);
      });
    } finally {
      // After the created events, so a run is reported created before it starts; and whatever a
      // listener threw, since the runs claimed are running under this instance, which alone will
      // execute them.
      if (claimed) this.#started(claimed.result, claimed.heldSince);
    }
    // A chunk that claimed fewer runs than it kept slots for (it lost its jobs to another instance,
    // say) hands them back: the runs other chunks created meanwhile may take them now.
    const claimMore = claimed
      ? claimed.result.claimed.length < limit
      : created.some(
          (run) => run.status === 'pending' && run.runAt.getTime() <= this.ctx.clock.now().getTime(),
        );
    return { created, advanced, claimMore };
  }

  /**
   * The store input that fires `job`'s due slot(s), and how many slots its misfire policy drops.
   * Planned at `now`, also for a job fired ahead: a late slot and the next one, due by the horizon,
   * must not count as missed slots of one firing.
   */
  #plan(job: Job, now: Date): { input: FireSlotInput; dropped: number } {
    const expectedNextRunAt = job.nextRunAt as Date;
    const ahead = expectedNextRunAt.getTime() > now.getTime();
    let plan: ReturnType<typeof planFiring>;
    try {
      plan = planFiring(job, now);
    } catch (error) {
      // A schedule edited behind our back into something invalid: stop firing it and say so,
      // rather than failing every tick.
      this.ctx.reportError(`plan job "${job.name}"`, error);
      return { input: { jobId: job.id, expectedNextRunAt, nextRunAt: null, runs: [], now }, dropped: 0 };
    }
    if (plan.exhausted) {
      this.ctx.reportError(
        `plan job "${job.name}"`,
        ValidationError.field(
          'schedule',
          `"${job.schedule}" (${job.timezone}) yields no time after ${now.toISOString()}: job "${job.name}" will not fire again until its schedule changes`,
        ),
      );
    }
    const policy = retryPolicyOf(job, this.ctx.registry);
    // Catch-up runs of misfire `all` wait for each other rather than skip each other.
    const overlap = plan.slots.length > 1 && job.overlap === 'skip' ? 'queue' : job.overlap;
    // A slot due while its job runs here is recorded skipped as it fires. Left pending, it would wait
    // for a claim, and with every slot of this instance busy none comes until a run ends, which
    // would then start it late instead of skipping it. (A run elsewhere is the claim's to see.)
    const skipNow =
      !ahead && overlap === 'skip' && this.#runsExclusivelyHere(concurrencyKeyOf(job, '', job.tenantId));
    const maxAttempts = 1 + (policy?.limit ?? 0);
    const runs = plan.slots.map((slot) => {
      const run = buildSlotRun(job, slot, { now, overlap, maxAttempts, random: this.options.random });
      return skipNow ? skippedRun(run, now) : run;
    });
    return {
      input: { jobId: job.id, expectedNextRunAt, nextRunAt: plan.nextRunAt, runs, now },
      dropped: plan.dropped,
    };
  }

  /**
   * Claim up to `limit` runs for this instance, with the clock read now; emits `run:skipped` for
   * overlap skips. `heldSince` is a monotonic reading taken just before that clock reading, which
   * {@link execute} needs.
   */
  async claim(limit: number): Promise<{ claimed: Run[]; heldSince: number }> {
    const heldSince = performance.now();
    const now = this.ctx.clock.now();
    if (limit <= 0) return { claimed: [], heldSince };
    this.#reserved += limit;
    let result: ClaimResult;
    try {
      result = await this.ctx.store.claimRuns({
        workerId: this.ctx.instanceId,
        now,
        limit,
        leaseMs: this.ctx.leaseMs,
      });
    } finally {
      this.#reserved -= limit;
    }
    this.#claimAnswered(now);
    this.#skipped(result.skipped);
    return { claimed: result.claimed, heldSince };
  }

  #claimAnswered(now: Date): void {
    this.claimedThrough = Math.max(this.claimedThrough, now.getTime());
  }

  /**
   * The runs this instance fired ahead whose slot has not come (a stopping loop's): wait for the
   * slot, at most the lead, and claim and start as many runs as there were. Left pending, they
   * would wait for another instance, and a lone instance restarting would start them late,
   * whatever their job's misfire policy; a slot fired at its time is not left behind that way.
   */
  async startFiredAhead(): Promise<void> {
    // Those due by the last answered claim were there for it (or for another instance's).
    const runAts = [...this.#firedAhead.values()].filter((runAt) => runAt > this.claimedThrough);
    this.#firedAhead.clear();
    if (runAts.length === 0) return;
    const wait = Math.max(...runAts) - this.ctx.clock.now().getTime();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    try {
      // The claim the running loop would have sent at the slot, taking what it would have taken.
      const { claimed, heldSince } = await this.claim(Math.min(this.room(), runAts.length));
      this.executeAll(claimed, heldSince);
    } catch (error) {
      // Stopping goes on: the runs stay pending for another instance, as any due run does.
      this.ctx.reportError('claim', error);
    }
  }

  /** Execute the runs a claim sent with finishes brought back. */
  #started(result: ClaimResult, heldSince: number): void {
    this.#skipped(result.skipped);
    this.executeAll(result.claimed, heldSince);
  }

  /** Whether a run of `key` that excludes others (overlap not `allow`) is executing here. */
  #runsExclusivelyHere(key: string): boolean {
    for (const { run } of this.active.values())
      if (run.concurrencyKey === key && run.overlap !== 'allow') return true;
    return false;
  }

  #skipped(skipped: readonly Run[]): void {
    for (const run of skipped) {
      this.ctx.logger.info(
        { runId: run.id, trigger: run.trigger, job: run.jobName },
        `${run.jobName ?? run.executor}: slot skipped, a run is still running (overlap "skip")`,
      );
      this.ctx.emitRun('run:skipped', run);
    }
  }

  /** Execute the runs one claim brought (their jobs read at once); per run, what {@link execute} settles with. */
  executeAll(runs: readonly Run[], heldSince: number): Promise<Run | null>[] {
    const batch = this.#jobs.readBatch(runs);
    return runs.map((run) => this.execute(run, heldSince, batch));
  }

  /**
   * Execute a claimed run; settles with the finished run (null if this worker lost it).
   * `heldSince` is `performance.now()` read with the clock reading the claim sent; `batch`, the
   * jobs of its claimed batch when they were read at once.
   */
  execute(run: Run, heldSince: number, batch?: BatchJobs): Promise<Run | null> {
    const entry: { run: Run; done: Promise<Run | null>; controls: RunControls | null } = {
      run,
      done: Promise.resolve(null),
      controls: null,
    };
    this.active.set(run.id, entry);
    this.#firedAhead.delete(run.id);
    entry.done = (async () => {
      try {
        const job = await this.#jobs.jobOf(run, batch);
        return await this.ctx.telemetry.traceRun(run, () =>
          executeRun(this.ctx, run, {
            job,
            retry: retryPolicyOf(job ?? { retry: null, tasks: run.tasks }, this.ctx.registry),
            abortGraceMs: this.options.abortGraceMs,
            heldSince,
            onControls: (controls) => {
              entry.controls = controls;
            },
          }),
        );
      } catch (error) {
        // The run stays `running` until its lease lapses and recovery fails it: nothing is lost.
        this.ctx.reportError(`execute run ${run.id}`, error);
        return null;
      } finally {
        this.active.delete(run.id);
        if (!this.#refilled.delete(run.id)) this.options.onRunSettled();
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

  /**
   * Heartbeat a run executing here now, so a cancel asked on another instance (by `cancelledBy`,
   * when it said) lands at once.
   */
  renewNow(runId: string, cancelledBy: string | null = null): void {
    this.active
      .get(runId)
      ?.controls?.renew(cancelledBy)
      .catch((error) => this.ctx.reportError('renewLease', error));
  }
}
