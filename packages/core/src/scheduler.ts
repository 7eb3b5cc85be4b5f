import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { EventEmitter } from 'eventemitter3';
import type {
  BackfillInput,
  BackfillResult,
  CleanupStaleResult,
  Dashboard,
  HealthOptions,
  HealthReport,
  JobInput,
  PreviewInput,
  PreviewResult,
  PruneResult,
  RunDueResult,
  ScheduleInput,
  Scheduler,
  SchedulerEvents,
  SchedulerOptions,
  SchedulerStats,
  TriggerInput,
} from './api.js';
import { AuditTrail } from './audit.js';
import { systemClock } from './clock.js';
import { eventForStatus, type RunEventName, type SchedulerContext } from './context.js';
import { DURATION_LIMITS, type Duration, toMs } from './duration.js';
import { Engine } from './engine.js';
import { ConflictError, NotFoundError, StoreError, storeCall, ValidationError } from './errors.js';
import { RunAbort } from './execution.js';
import type { Executor, ExecutorDefinition, ExecutorInfo } from './executor.js';
import { ExecutorRegistry } from './executors.js';
import { FinishBatcher } from './finish-batcher.js';
import { checkHealth } from './health.js';
import { Jobs } from './jobs.js';
import { consoleLogger, silentLogger } from './logger.js';
import { Loop } from './loop.js';
import { MAINTENANCE_JOBS, maintenanceExecutors } from './maintenance.js';
import { DEFAULT_ONE_OFF_CAPS, OneOffGate } from './one-offs.js';
import {
  assertKnownSchedulerOptions,
  cleanupStaleOptionsSchema,
  parseOptions,
  parseScope,
  pruneOptionsSchema,
  runDueOptionsSchema,
  schedulerOptionsSchema,
  statsOptionsSchema,
  stopOptionsSchema,
} from './operation-schemas.js';
import { backfillSlots, previewSchedule } from './operations.js';
import { Outbox } from './outbox.js';
import { computeDashboard, computeStats, Runs } from './reporting.js';
import { RunRequests } from './run-requests.js';
import type { FinishedRun, FinishRunInput, Store, StoreEvent } from './store.js';
import { assertStore } from './store-check.js';
import { Telemetry } from './telemetry.js';
import { DEFAULT_TENANT_CAPS, TenantLimits } from './tenant-limits.js';
import type { ExecutorMap, SchedulerFor, TypedScheduler } from './typed-api.js';
import { isTerminal, type Job, type Run } from './types.js';
import { parse } from './validation.js';
import { assertZod4Loaded } from './zod-support.js';

/**
 * Runs one instance executes at once unless told otherwise. Cron jobs come due together (every
 * job on the hour), and a run waiting for a slot starts late by a whole run of another job: with
 * 10 slots, the 11th job of an hourly burst whose runs call a slow API starts seconds after its
 * hour. A slot costs a pending promise while its run waits on I/O, so the default leaves room for a
 * burst of about a hundred jobs across two instances; hosts whose executors are heavy on CPU or
 * memory set a lower one.
 */
const DEFAULT_CONCURRENCY = 50;

const ABORT_GRACE_MS = 5_000;

class CronScheduler implements Scheduler {
  readonly instanceId: string;
  readonly store: Store;
  readonly jobs: Jobs;
  readonly runs: Runs;
  readonly audit: AuditTrail;
  readonly #ctx: SchedulerContext;
  readonly #defaultTimezone: string;
  readonly #pollMs: number;
  readonly #events = new EventEmitter<SchedulerEvents>();
  readonly #registry = new ExecutorRegistry();
  readonly #engine: Engine;
  readonly #loop: Loop;
  readonly #retentionMs: number;
  readonly #staleAfterMs: number;
  #ready: Promise<void> | null = null;
  #unsubscribe: (() => Promise<void>) | null = null;
  #started = false;
  /** The stop in progress, which a second `stop()` call waits for. */
  #stopping: Promise<void> | null = null;
  readonly #configuredJobs: JobInput[];
  readonly #outbox: Outbox;
  readonly #oneOffs: OneOffGate;
  readonly #requests: RunRequests;

  constructor(options: SchedulerOptions) {
    if (typeof options !== 'object' || options === null)
      throw ValidationError.field('', 'createScheduler needs an options object with a `store`');
    assertStore(options.store);
    assertKnownSchedulerOptions(options);
    const { store, executors = {}, clock = systemClock, logger, jobs: defaultJobs = [] } = options;
    const settings = parse(schedulerOptionsSchema, {
      timezone: options.timezone,
      concurrency: options.concurrency,
      pollInterval: options.pollInterval,
      lease: options.lease,
      retention: options.retention,
      staleAfter: options.staleAfter,
      instanceId: options.instanceId,
      maintenanceJobs: options.maintenanceJobs,
      maxLogLines: options.maxLogLines,
      oneOffLimits: options.oneOffLimits,
      tenantLimits: options.tenantLimits,
    });
    if (typeof clock?.now !== 'function')
      throw ValidationError.field('clock', 'must have a now(): Date method');
    const random = options.random ?? Math.random;
    if (typeof random !== 'function')
      throw ValidationError.field('random', 'must be a function returning a number in [0, 1)');
    this.store = store;
    this.#configuredJobs = defaultJobs;
    this.instanceId = settings.instanceId ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.#retentionMs = toMs(settings.retention ?? '30d', 'retention');
    this.#staleAfterMs = toMs(settings.staleAfter ?? '3d', 'staleAfter');
    const leaseMs = toMs(settings.lease ?? '10s', 'lease');
    if (leaseMs < 100) throw ValidationError.field('lease', 'must be at least 100 ms');
    const pollMs = Math.max(1, toMs(settings.pollInterval ?? '1s', 'pollInterval'));
    const concurrency = settings.concurrency ?? DEFAULT_CONCURRENCY;
    const withMaintenance = settings.maintenanceJobs ?? true;

    // Finishes of runs executing here claim the next runs for the slots they free (see Engine).
    const finishes = new FinishBatcher(store, (batch) => this.#engine.planClaim(batch));
    this.#defaultTimezone = settings.timezone ?? 'UTC';
    this.#pollMs = pollMs;
    const telemetry = new Telemetry(options.telemetry, () =>
      this.store.countActive({}).catch(() => ({ pending: Number.NaN, running: Number.NaN })),
    );
    const ctx: SchedulerContext = {
      store,
      clock,
      registry: this.#registry,
      logger: logger === false ? silentLogger : (logger ?? consoleLogger()),
      events: this.#events,
      instanceId: this.instanceId,
      leaseMs,
      maxLogLines: settings.maxLogLines ?? 200,
      telemetry,
      ready: () => this.#ensureReady(),
      finishRun: (input) => this.#finishRun(finishes, input),
      publish: (event) => this.#publish(event),
      wake: () => this.#loop.wake(),
      announceFinishesAs:
        store.capabilities.subscribe && store.capabilities.announcesFinishedRuns
          ? this.instanceId
          : undefined,
      emitRun: (name, run, options) => this.#emitRun(name, run, options),
      reportError: (operation, error) => this.#reportError(operation, error),
    };
    this.#ctx = ctx;
    this.#outbox = new Outbox(
      (events) => (this.store.publish as NonNullable<Store['publish']>)(events),
      (error) => this.#reportError('publish', error),
    );
    this.#engine = new Engine(ctx, {
      abortGraceMs: ABORT_GRACE_MS,
      random: checkedRandom(random),
      concurrency,
      refills: () => this.#loop.running,
      onRunSettled: () => this.#loop.refill(),
    });
    this.#loop = new Loop(ctx, this.#engine, { pollMs });
    const limits = settings.tenantLimits ?? {};
    const cap = (key: 'maxJobs' | 'maxRetries') =>
      limits[key] === false ? null : (limits[key] ?? DEFAULT_TENANT_CAPS[key]);
    this.jobs = new Jobs(ctx, {
      limits: new TenantLimits(ctx, {
        maxJobs: cap('maxJobs'),
        minIntervalMs:
          limits.minInterval === false
            ? null
            : limits.minInterval === undefined
              ? DEFAULT_TENANT_CAPS.minIntervalMs
              : toMs(limits.minInterval, 'tenantLimits.minInterval'),
        maxRetries: cap('maxRetries'),
      }),
      defaultTimezone: settings.timezone ?? 'UTC',
      defaultJobs: () => [...defaultJobs, ...(withMaintenance ? MAINTENANCE_JOBS : [])],
    });
    this.runs = new Runs(ctx);
    this.audit = new AuditTrail(ctx, () => this.#ensureReady());
    const caps = settings.oneOffLimits ?? {};
    this.#oneOffs = new OneOffGate(ctx, {
      perJob: caps.perJob === false ? null : (caps.perJob ?? DEFAULT_ONE_OFF_CAPS.perJob),
      perTenant: caps.perTenant === false ? null : (caps.perTenant ?? DEFAULT_ONE_OFF_CAPS.perTenant),
    });
    this.#requests = new RunRequests({
      ctx,
      jobs: this.jobs,
      gate: this.#oneOffs,
      announce: () => this.#announce(),
      created: (run) => {
        this.#emitCreated(run);
        this.#loop.wake();
      },
      createdMany: (runs) => {
        for (const run of runs) this.#emitRun('run:created', run);
        if (runs.length === 0) return;
        this.#publish({ type: 'wake', origin: this.instanceId });
        this.#loop.wake();
      },
    });
    for (const [name, executor] of Object.entries(maintenanceExecutors(this)))
      this.#registry.register(name, executor, true);
    // An array would register its entries under "0", "1"…, and a Map none at all (its entries are
    // not properties): refuse both rather than run nothing.
    if (
      typeof executors !== 'object' ||
      executors === null ||
      Array.isArray(executors) ||
      (executors as unknown) instanceof Map
    )
      throw ValidationError.field(
        'executors',
        'must be an object mapping executor names to executors, e.g. { sendReport: defineExecutor({ run }) }',
      );
    for (const [name, executor] of Object.entries(executors)) this.#registry.register(name, executor);
  }

  /**
   * Initialise the store once, lazily, so every call (`jobs.*`, `runs.*`, `runDue`…) works before
   * `start()`. Concurrent first calls share one `init()`; a failed one is tried again by the next call.
   */
  #ensureReady(): Promise<void> {
    this.#ready ??= Promise.all([
      storeCall('init', () => this.store.init()),
      this.#ctx.telemetry.ready(),
    ]).then(
      () => {},
      (error) => {
        this.#ready = null;
        throw error;
      },
    );
    return this.#ready;
  }

  /**
   * A finish through the batcher; one that auto-paused its job announces the pause. A finish the
   * store announces first takes the run's own events out of the outbox's way (see `release`).
   */
  async #finishRun(finishes: FinishBatcher, input: FinishRunInput): Promise<Run | null> {
    const inFlight = input.announceAs === undefined ? undefined : this.#outbox.release(input.runId);
    if (inFlight) await inFlight;
    const finished: FinishedRun | null = await finishes.finish(input);
    if (!finished?.pausedJob) return finished;
    const { pausedJob: _paused, ...run } = finished;
    await this.#announceAutoPause(run);
    return run;
  }

  async #announceAutoPause(run: Run): Promise<void> {
    try {
      const job = run.jobId === null ? null : await this.store.getJob(run.jobId);
      if (!job) return;
      this.#ctx.logger.warn(
        { job: job.name, runId: run.id, trigger: run.trigger },
        `${job.name}: ${job.pausedNote ?? 'paused automatically'}`,
      );
      this.#events.emit('job:auto-paused', {
        job,
        run,
        failures: job.consecutiveFailures,
        origin: this.instanceId,
      });
      this.#events.emit('job:changed', {
        change: 'paused',
        jobId: job.id,
        name: job.name,
        tenantId: job.tenantId,
        job,
        origin: this.instanceId,
      });
      this.#publish({
        type: 'job',
        origin: this.instanceId,
        jobId: job.id,
        name: job.name,
        tenantId: job.tenantId,
        change: 'paused',
      });
    } catch (error) {
      // The pause itself is stored; only its announcement failed.
      this.#reportError('announce auto-pause', error);
    }
  }

  async start(): Promise<void> {
    if (this.#started) return;
    await this.#ensureReady();
    if (this.#configuredJobs.length > 0) await this.jobs.seed(this.#configuredJobs);
    if (this.store.capabilities.subscribe && this.store.subscribe) {
      this.#unsubscribe = await storeCall('subscribe', () =>
        (this.store.subscribe as NonNullable<Store['subscribe']>)((event) => this.#onStoreEvent(event)),
      );
    }
    this.#started = true;
    this.#loop.start();
  }

  stop(options: { grace?: Duration } = {}): Promise<void> {
    // A second call while stopping (SIGTERM then SIGINT) resolves when the first is done, not
    // before: the host closes the store after it, and the first may still be starting runs.
    this.#stopping ??= this.#stop(options).finally(() => {
      this.#stopping = null;
    });
    return this.#stopping;
  }

  async #stop(options: { grace?: Duration }): Promise<void> {
    const { grace } = parseOptions(stopOptionsSchema, options);
    const graceMs = toMs(grace ?? '30s', 'grace', DURATION_LIMITS.grace);
    this.#started = false;
    await this.#loop.stop();
    // Until none is left: a finish still in flight may bring back runs it claimed for the slots it
    // freed, and they count as running here like the others.
    const settle = async (abortReason: RunAbort | null) => {
      while (this.#engine.active.size > 0) {
        if (abortReason)
          for (const runId of this.#engine.active.keys()) this.#engine.abort(runId, abortReason);
        await Promise.allSettled([...this.#engine.active.values()].map((entry) => entry.done));
      }
    };
    const drained = await Promise.race([
      settle(null).then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), graceMs).unref()),
    ]);
    if (!drained)
      await settle(new RunAbort('shutdown', `the scheduler stopped (grace of ${graceMs} ms elapsed)`));
    // Events are published a little later than they happen (see Outbox): send the last ones
    // before the host closes the store.
    await this.#outbox.drain();
    await this.#unsubscribe?.();
    this.#unsubscribe = null;
  }

  register<P, I>(name: string, executor: Executor<P, I> | ExecutorDefinition<P, I>): this {
    this.#registry.register(name, executor);
    return this;
  }

  executors(): ExecutorInfo[] {
    return this.#registry.list();
  }

  trigger(input: TriggerInput): Promise<Run> {
    return this.#requests.trigger(input);
  }

  schedule(input: ScheduleInput): Promise<Run>;
  schedule(inputs: readonly ScheduleInput[]): Promise<Run[]>;
  schedule(input: ScheduleInput | readonly ScheduleInput[]): Promise<Run | Run[]> {
    return this.#requests.schedule(input);
  }

  async cancel(runId: string, scope: { by?: string | null; tenantId?: string | null } = {}): Promise<Run> {
    const options = parseScope(scope);
    await this.#ensureReady();
    const existing = await this.runs.get(
      runId,
      options.tenantId === undefined ? {} : { tenantId: options.tenantId },
    );
    if (isTerminal(existing.status))
      throw new ConflictError(`run ${runId} already ended (${existing.status})`);
    const now = this.#ctx.clock.now();
    const run = await storeCall('cancelRun', () =>
      this.store.cancelRun({ runId, now, by: options.by ?? null }),
    );
    if (!run) throw new NotFoundError('run', runId);
    if (run.status === 'running') {
      const local = this.#engine.abort(
        runId,
        new RunAbort('cancelled', `cancelled by ${options.by ?? 'request'}`),
      );
      if (!local) this.#publish({ type: 'cancel', origin: this.instanceId, runId, by: options.by ?? null });
    } else if (run.status === 'cancelled') {
      this.#emitRun('run:cancelled', run);
    } else if (isTerminal(run.status)) {
      throw new ConflictError(`run ${runId} already ended (${run.status})`);
    }
    return run;
  }

  async runDue(options: { limit?: number } = {}): Promise<RunDueResult> {
    const limit = parseOptions(runDueOptionsSchema, options).limit ?? 1000;
    await this.#ensureReady();
    const result: RunDueResult = {
      summary: { total: 0, executed: 0, skipped: 0, failed: 0 },
      executed: [],
      failed: [],
    };
    const now = this.#ctx.clock.now();
    const fired = await storeCall('fireSlots', () => this.#engine.fireDue(now));
    // Slots whose job was running here are recorded skipped as they fire (see Engine).
    result.summary.skipped += fired.filter((run) => run.status === 'skipped').length;
    await storeCall('recover', () => this.#engine.recovery.recover(now));
    let processed = 0;
    while (processed < limit) {
      const batch = Math.min(limit - processed, 50);
      const heldSince = performance.now();
      const { claimed, skipped } = await storeCall('claimRuns', () =>
        this.store.claimRuns({
          workerId: this.instanceId,
          now: this.#ctx.clock.now(),
          limit: batch,
          leaseMs: this.#ctx.leaseMs,
        }),
      );
      for (const run of skipped) this.#emitRun('run:skipped', run);
      result.summary.skipped += skipped.length;
      processed += skipped.length;
      if (claimed.length === 0) break;
      const finished = await Promise.all(this.#engine.executeAll(claimed, heldSince));
      processed += claimed.length;
      for (const run of finished) {
        if (run?.status === 'succeeded') result.executed.push(run);
        else if (run?.status === 'failed') result.failed.push(run);
      }
    }
    result.summary.executed = result.executed.length;
    result.summary.failed = result.failed.length;
    result.summary.total = result.summary.executed + result.summary.failed + result.summary.skipped;
    return result;
  }

  async cleanupStale(
    input: { olderThan?: Duration; tenantId?: string | null } = {},
  ): Promise<CleanupStaleResult> {
    const options = parseOptions(cleanupStaleOptionsSchema, input);
    const olderThanMs =
      options.olderThan === undefined
        ? this.#staleAfterMs
        : toMs(options.olderThan, 'olderThan', DURATION_LIMITS.staleAfter);
    await this.#ensureReady();
    const now = this.#ctx.clock.now();
    const threshold = new Date(now.getTime() - olderThanMs);
    const runs = await storeCall('failStaleRuns', () =>
      this.store.failStaleRuns({
        startedBefore: threshold,
        now,
        ...(options.tenantId === undefined ? {} : { tenantIds: [options.tenantId] }),
        error: {
          code: 'stale',
          message: `Run marked as failed - exceeded ${formatAge(olderThanMs)} timeout`,
        },
      }),
    );
    for (const run of runs) this.#emitRun('run:failed', run);
    return {
      updated: runs.length,
      jobs: [
        ...new Set(runs.map((run) => run.jobName).filter((name): name is string => name !== null)),
      ].sort(),
      executors: [...new Set(runs.map((run) => run.executor))].sort(),
      threshold,
    };
  }

  async prune(
    input: { olderThan?: Duration; tenantId?: string | null; audit?: boolean } = {},
  ): Promise<PruneResult> {
    const options = parseOptions(pruneOptionsSchema, input);
    const olderThanMs =
      options.olderThan === undefined
        ? this.#retentionMs
        : toMs(options.olderThan, 'olderThan', DURATION_LIMITS.retention);
    await this.#ensureReady();
    const threshold = new Date(this.#ctx.clock.now().getTime() - olderThanMs);
    const tenants = options.tenantId === undefined ? {} : { tenantIds: [options.tenantId] };
    const deleted = await storeCall('pruneRuns', () =>
      this.store.pruneRuns({ finishedBefore: threshold, ...tenants }),
    );
    const auditDeleted =
      options.audit === false
        ? 0
        : await storeCall('pruneAudit', () => this.store.pruneAudit({ before: threshold, ...tenants }));
    return { deleted, auditDeleted, threshold };
  }

  async preview(input: PreviewInput): Promise<PreviewResult> {
    await this.#ensureReady();
    return previewSchedule(input, { timezone: this.#defaultTimezone, now: this.#ctx.clock.now() });
  }

  async backfill(input: BackfillInput): Promise<BackfillResult> {
    await this.#ensureReady();
    const result = await backfillSlots(this.#ctx, this.jobs, input, {
      admit: (run, label, create, count) => this.#oneOffs.admit(run, label, create, count),
      onCreated: (run) => this.#emitCreated(run),
    });
    if (result.created.length > 0) this.#loop.wake();
    return result;
  }

  health(options: HealthOptions = {}): Promise<HealthReport> {
    return checkHealth(
      this.#ctx,
      {
        started: this.#loop.running,
        lastTickAt: this.#loop.lastTickAt,
        pollMs: this.#pollMs,
        active: this.#engine.active,
      },
      options,
    );
  }

  async prometheusMetrics(): Promise<string> {
    await this.#ensureReady();
    return this.#ctx.telemetry.prometheus();
  }

  async stats(
    options: { since?: Date | string; tenantId?: string | null; days?: number } = {},
  ): Promise<SchedulerStats> {
    const checked = parseOptions(statsOptionsSchema, options);
    await this.#ensureReady();
    return computeStats(this.#ctx, checked);
  }

  async dashboard(options: { tenantId?: string | null; locale?: string } = {}): Promise<Dashboard> {
    await this.#ensureReady();
    return computeDashboard(this.#ctx, options);
  }

  async reload(): Promise<void> {
    await this.#ensureReady();
    this.#publish({ type: 'wake', origin: this.instanceId });
    this.#loop.wake();
  }

  on<E extends keyof SchedulerEvents>(event: E, listener: SchedulerEvents[E]): this {
    (this.#events.on as (event: E, listener: SchedulerEvents[E]) => unknown)(event, listener);
    return this;
  }

  off<E extends keyof SchedulerEvents>(event: E, listener: SchedulerEvents[E]): this {
    (this.#events.off as (event: E, listener: SchedulerEvents[E]) => unknown)(event, listener);
    return this;
  }

  once<E extends keyof SchedulerEvents>(event: E, listener: SchedulerEvents[E]): this {
    (this.#events.once as (event: E, listener: SchedulerEvents[E]) => unknown)(event, listener);
    return this;
  }

  #emitRun(name: RunEventName, run: Run, options: { announced?: boolean } = {}): void {
    if (name === 'run:started') this.#ctx.telemetry.runStarted(run);
    else if (isTerminal(run.status)) this.#ctx.telemetry.runEnded(run);
    this.#events.emit(name, { run, origin: this.instanceId });
    // The store published this status with the change (its earlier events were released first).
    if (options.announced) return;
    this.#publish({
      type: 'run',
      origin: this.instanceId,
      runId: run.id,
      status: run.status,
      tenantId: run.tenantId,
    });
  }

  /** `createRun`'s `announceAs`, when the store publishes new runs itself (one round trip fewer). */
  #announce(): { announceAs?: string } {
    const { subscribe, announcesCreatedRuns } = this.store.capabilities;
    return subscribe && announcesCreatedRuns ? { announceAs: this.instanceId } : {};
  }

  /** A run created here: local listeners hear of it, and other instances unless the store told them. */
  #emitCreated(run: Run): void {
    if (this.#announce().announceAs === undefined) {
      this.#emitRun('run:created', run);
      this.#publish({ type: 'wake', origin: this.instanceId });
    } else {
      this.#events.emit('run:created', { run, origin: this.instanceId });
    }
  }

  #publish(event: StoreEvent): void {
    if (!this.store.capabilities.subscribe || !this.store.publish) return;
    this.#outbox.push(event);
  }

  #onStoreEvent(event: StoreEvent): void {
    // A new run may be due at any time, so it calls for a tick (which also finds the next wake-up);
    // a run that ended elsewhere can only have freed its concurrency key, so it calls for a claim.
    // Runs ended here claimed for their slots as they finished.
    // (Not for a run created here: whatever created it woke this loop already, and a run fired
    // ahead of its slot would have the wake-up's claim go out just before the slot, for nothing.)
    if (
      event.type === 'wake' ||
      (event.type === 'run' && event.status === 'pending' && event.origin !== this.instanceId)
    )
      this.#loop.wake();
    else if (event.type === 'run' && event.status !== 'running' && event.origin !== this.instanceId)
      this.#loop.refill();
    if (event.origin === this.instanceId) return;
    if (event.type === 'cancel') {
      this.#engine.renewNow(event.runId, typeof event.by === 'string' ? event.by : null);
      return;
    }
    if (event.type === 'run') {
      const name = eventForStatus(event.status);
      if (this.#events.listenerCount(name) === 0) return;
      this.store.getRun(event.runId).then(
        (run) => run && this.#events.emit(name, { run, origin: event.origin }),
        (error) => this.#reportError('getRun', error),
      );
    } else if (event.type === 'job' && event.change === 'deleted') {
      // Another instance deleted it: this one's metrics forget its series too.
      this.#ctx.telemetry.forgetJob(event.name, event.tenantId);
    }
    if (event.type === 'job' && this.#events.listenerCount('job:changed') > 0) {
      const { jobId, name, tenantId, change, origin } = event;
      const lookup: Promise<Job | null> =
        change === 'deleted' ? Promise.resolve(null) : this.store.getJob(jobId);
      lookup.then(
        (job) => this.#events.emit('job:changed', { change, jobId, name, tenantId, job, origin }),
        (error) => this.#reportError('getJob', error),
      );
    }
  }

  #reportError(operation: string, error: unknown): void {
    const wrapped = error instanceof Error ? error : new StoreError(String(error));
    this.#ctx.logger.error({ operation, err: wrapped }, `${operation} failed: ${wrapped.message}`);
    this.#events.emit('scheduler:error', { error: wrapped, operation });
  }
}
/** `random`, refusing a draw outside [0, 1): a bad source would otherwise move slots silently. */
function checkedRandom(random: () => number): () => number {
  if (random === Math.random) return random;
  return () => {
    const value = random();
    if (typeof value !== 'number' || !(value >= 0 && value < 1))
      throw ValidationError.field('random', `returned ${String(value)}; it must return a number in [0, 1)`);
    return value;
  };
}

function formatAge(ms: number): string {
  const days = ms / 86_400_000;
  if (Number.isInteger(days)) return `${days} day${days === 1 ? '' : 's'}`;
  const hours = ms / 3_600_000;
  return Number.isInteger(hours) ? `${hours} hour${hours === 1 ? '' : 's'}` : `${ms} ms`;
}

/**
 * Create a scheduler on a store. Nothing async happens here: call `start()` to run the loop, or
 * `runDue()` from a heartbeat (serverless). Options are validated now; a bad one throws
 * `ValidationError` naming it. Given `executors`, the result is a {@link TypedScheduler}: executor
 * names and params are checked at compile time; assign it to a `Scheduler` to drop the typing.
 */
export function createScheduler<const E extends ExecutorMap = Record<never, never>>(
  options: SchedulerOptions<E>,
): SchedulerFor<E> {
  assertZod4Loaded();
  // One implementation serves both faces: typing `E` only narrows what callers may pass, so the
  // options are the untyped ones at run time and the scheduler is the same object either way.
  return new CronScheduler(options as unknown as SchedulerOptions) as Scheduler as SchedulerFor<E>;
}
