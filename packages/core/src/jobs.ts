import type { JobDryRun, JobInput, JobListFilter, JobsApi, JobUpdate, TenantScope } from './api.js';
import { auditEntry, changedFields, definitionOf } from './audit.js';
import type { SchedulerContext } from './context.js';
import { type Duration, toMs } from './duration.js';
import { ConflictError, NotFoundError, storeCall, ValidationError, type ValidationIssue } from './errors.js';
import { jobListSchema, parseOptions, parseScope, seedOptionsSchema } from './operation-schemas.js';
import { nextSlot, nextTime, scheduleOf } from './planning.js';
import { toRetryPolicy } from './retry.js';
import type { JobChange, JobPatch, NewAuditEntry, NewJob, TenantIds } from './store.js';
import type { TenantLimits } from './tenant-limits.js';
import type { AuditAction, Job, JobTask } from './types.js';
import { jobInputSchema, jobUpdateSchema, nameSchema, parse, pauseNoteSchema } from './validation.js';
import { jobAsSeenBy } from './views.js';

type ParsedJob = ReturnType<typeof jobInputSchema.parse>;
type ParsedPatch = ReturnType<typeof jobUpdateSchema.parse>;

const CAS_ATTEMPTS = 8;
/** Jobs one `seed` call takes: a full import is written in chunks, this bounds one call's memory. */
const MAX_SEED = 200_000;
/** Next instants a dry run shows. */
const DRY_RUN_INSTANTS = 5;

/** How a change is recorded in the audit trail. */
interface AuditNote {
  action: AuditAction;
  actor: string | null | undefined;
  note?: string | null;
}

/** What an update body carries about the job it was read from; see `Jobs.#checkGuard`. */
interface UpdateGuard {
  version?: number | undefined;
  id?: string | undefined;
  tenantId?: string | null | undefined;
}

function staleVersion(name: string, expected: number, actual: number): ConflictError {
  return new ConflictError(
    `job "${name}" was changed since version ${expected} was read (it is at version ${actual}); read it again and re-apply the change`,
  );
}

/** The tenants a filter covers, as the store wants them. */
export function tenantIdsOf(filter: {
  tenantId?: string | null;
  includeGlobal?: boolean;
}): TenantIds | undefined {
  if (filter.tenantId === undefined) return undefined;
  return filter.includeGlobal && filter.tenantId !== null ? [filter.tenantId, null] : [filter.tenantId];
}

/** Whether `patch` moves when `job` fires, so its `nextRunAt` must be computed again. */
function timingChanged(job: Job, patch: JobPatch): boolean {
  return (['schedule', 'timezone', 'activeFrom', 'activeUntil', 'enabled'] as const).some(
    (key) => key in patch && String(patch[key]) !== String(job[key]),
  );
}

/** `value`, or `fallback` where the definition is silent (undefined; null is a value). */
function given<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value;
}

/** Job administration: validation, next-run computation, compare-and-set updates, events. */
export class Jobs implements JobsApi {
  constructor(
    private readonly ctx: SchedulerContext,
    private readonly options: {
      defaultTimezone: string;
      defaultJobs: () => JobInput[];
      limits: TenantLimits;
    },
  ) {}

  #tasks(input: { executor?: string | undefined; tasks?: ParsedJob['tasks'] }): JobTask[] | undefined {
    if (input.executor !== undefined) {
      this.ctx.registry.assertRegistered(input.executor, 'executor');
      return [{ executor: input.executor, enabled: true, params: {} }];
    }
    return input.tasks?.map((task, index) => {
      const spec = typeof task === 'string' ? { executor: task } : task;
      this.ctx.registry.assertRegistered(
        spec.executor,
        `tasks.${index}${typeof task === 'string' ? '' : '.executor'}`,
      );
      return { executor: spec.executor, enabled: spec.enabled ?? true, params: spec.params ?? {} };
    });
  }

  /** A tenant's job may not name a built-in maintenance executor, in `executor` or any task. */
  #assertTenantExecutors(
    input: { executor?: string | undefined; tasks?: ParsedJob['tasks'] },
    tenantId: string | null,
  ): void {
    if (input.executor !== undefined)
      this.ctx.registry.assertTenantMayUse(input.executor, tenantId, 'executor');
    input.tasks?.forEach((task, index) => {
      const [name, path] =
        typeof task === 'string' ? [task, `tasks.${index}`] : [task.executor, `tasks.${index}.executor`];
      this.ctx.registry.assertTenantMayUse(name, tenantId, path);
    });
  }

  /** Definition fields of a validated input; `undefined` where the input is silent. */
  #definition(input: ParsedPatch): JobPatch {
    const fields: JobPatch = {};
    const set = <K extends keyof JobPatch>(key: K, value: JobPatch[K] | undefined) => {
      if (value !== undefined) fields[key] = value;
    };
    set('name', input.name);
    set('description', input.description);
    set('schedule', input.schedule?.trim());
    set('timezone', input.timezone);
    set('tasks', this.#tasks(input));
    set('params', input.params);
    set('enabled', input.enabled);
    set('pausedNote', input.pausedNote);
    set('overlap', input.overlap);
    set('misfire', input.misfire);
    set('catchUpLimit', input.catchUpLimit);
    // A duration comes as written (`timeout: '5m'`) or as read back (`timeoutMs: 300000`).
    const ms = (written: Duration | null | undefined, read: number | null | undefined, field: string) => {
      const value = written === undefined ? read : written;
      return value === null ? null : value === undefined ? undefined : toMs(value, field);
    };
    set('misfireGraceMs', ms(input.misfireGrace, input.misfireGraceMs, 'misfireGrace'));
    set('timeoutMs', ms(input.timeout, input.timeoutMs, 'timeout'));
    set(
      'retry',
      input.retry === null ? null : input.retry === undefined ? undefined : toRetryPolicy(input.retry),
    );
    set(
      'autoPause',
      input.autoPause === null ? null : input.autoPause === undefined ? undefined : { ...input.autoPause },
    );
    set('jitterMs', ms(input.jitter, input.jitterMs, 'jitter') ?? undefined);
    // -0 as 0, as the databases store it: every store then reads the job back the same.
    set('priority', input.priority === 0 ? 0 : input.priority);
    set('activeFrom', input.activeFrom);
    set('activeUntil', input.activeUntil);
    set('metadata', input.metadata);
    return fields;
  }

  /** Job-level and task-level params checked against each task's executor schema. */
  #checkParams(job: Pick<Job, 'tasks' | 'params'>): void {
    job.tasks.forEach((task, index) => {
      this.ctx.registry.checkStoredParams(task.executor, job.params, 'params');
      this.ctx.registry.checkStoredParams(
        task.executor,
        { ...job.params, ...task.params },
        `tasks.${index}.params`,
      );
    });
  }

  /** Checks that span fields, and the next slot the job will fire. */
  #settle(
    job: Pick<Job, 'schedule' | 'timezone' | 'activeFrom' | 'activeUntil' | 'enabled'>,
    now: Date = this.ctx.clock.now(),
  ): Date | null {
    // Parsed first, so a paused job's bad schedule is refused too. Cached: an import of many jobs
    // repeats a few expressions, and parsing one costs more than the rest.
    scheduleOf(job);
    if (job.activeFrom && job.activeUntil && job.activeUntil.getTime() <= job.activeFrom.getTime()) {
      throw ValidationError.field('activeUntil', 'must be after activeFrom');
    }
    if (!job.enabled) return null;
    const slot = nextSlot(job, now);
    // Null from the schedule itself, not from the active window: an enabled job that never fires.
    if (slot === null && nextTime(job, now) === null) {
      throw ValidationError.field(
        'schedule',
        `"${job.schedule}" has no time after ${now.toISOString()} (times end on 9999-12-31)`,
      );
    }
    return slot;
  }

  create(input: JobInput): Promise<Job> {
    return this.#create(input, 'created');
  }

  async #create(input: JobInput, action: 'created' | 'seeded'): Promise<Job> {
    const parsed = parse(jobInputSchema, input);
    this.#assertTenantExecutors(parsed, parsed.tenantId ?? null);
    await this.ctx.ready();
    const { record, audit } = this.#record(parsed, action, this.ctx.clock.now());
    const job = await this.options.limits.admit(record.tenantId, () =>
      storeCall('insertJob', () => this.ctx.store.insertJob(record, { audit })),
    );
    this.#changed('created', job);
    return job;
  }

  /**
   * The stored form of a validated new job, checked whole, and its audit entry. `slots` (one per
   * seed call) keeps the next slot of each window-less schedule already settled at `now`: an import
   * repeats a few expressions, and each would otherwise be evaluated once per job.
   */
  #record(
    parsed: ParsedJob,
    action: 'created' | 'seeded',
    now: Date,
    slots?: Map<string, Date | null>,
  ): { record: NewJob; audit: NewAuditEntry } {
    const definition = this.#definition(parsed);
    // One literal, field by field, rather than defaults spread over by the definition: V8 builds
    // spread-then-extend objects slowly (tens of microseconds each at this size), and an import
    // builds one per job.
    const record: NewJob = {
      name: parsed.name,
      tenantId: parsed.tenantId ?? null,
      description: given(definition.description, null),
      schedule: given(definition.schedule, parsed.schedule.trim()),
      timezone: given(definition.timezone, this.options.defaultTimezone),
      tasks: given(definition.tasks, []),
      params: given(definition.params, {}),
      enabled: given(definition.enabled, true),
      pausedNote: given(definition.pausedNote, null),
      overlap: given(definition.overlap, 'skip'),
      misfire: given(definition.misfire, 'once'),
      catchUpLimit: given(definition.catchUpLimit, 10),
      misfireGraceMs: given(definition.misfireGraceMs, null),
      timeoutMs: given(definition.timeoutMs, null),
      retry: given(definition.retry, null),
      autoPause: given(definition.autoPause, null),
      jitterMs: given(definition.jitterMs, 0),
      priority: given(definition.priority, 0),
      activeFrom: given(definition.activeFrom, null),
      activeUntil: given(definition.activeUntil, null),
      metadata: given(definition.metadata, {}),
      nextRunAt: null,
      lastRunAt: null,
      lastRunId: null,
      lastStatus: null,
      lastError: null,
      lastDurationMs: null,
      runCount: 0,
      errorCount: 0,
      consecutiveFailures: 0,
      createdAt: now,
      createdBy: parsed.createdBy ?? null,
      updatedAt: now,
      updatedBy: parsed.createdBy ?? null,
    };
    this.#checkParams(record);
    this.options.limits.checkDefinition(record, now);
    // The same reading as createdAt: a second one could cross a slot and skip it.
    record.nextRunAt = this.#settleOnce(record, now, slots);
    const audit = auditEntry(record, {
      action,
      actor: record.createdBy,
      at: now,
      after: definitionOf(record),
    });
    return { record, audit };
  }

  /** `#settle`, answered from `slots` for a job whose schedule alone decides its next slot. */
  #settleOnce(job: NewJob, now: Date, slots: Map<string, Date | null> | undefined): Date | null {
    if (!slots || job.activeFrom !== null || job.activeUntil !== null || !job.enabled)
      return this.#settle(job, now);
    const key = `${job.timezone}\u0000${job.schedule}`;
    let slot = slots.get(key);
    if (slot === undefined) {
      slot = this.#settle(job, now);
      slots.set(key, slot);
    }
    // Each job gets its own Date: a record's fields are its own.
    return slot === null ? null : new Date(slot.getTime());
  }

  async get(name: string, scope: TenantScope & { includeGlobal?: boolean } = {}): Promise<Job> {
    parse(nameSchema, name, 'name');
    const { tenantId = null, includeGlobal } = parseScope(scope);
    await this.ctx.ready();
    const find = (owner: string | null) =>
      storeCall('findJobByName', () => this.ctx.store.findJobByName(owner, name));
    const job = (await find(tenantId)) ?? (includeGlobal && tenantId !== null ? await find(null) : null);
    if (!job)
      throw new NotFoundError(
        'job',
        name,
        // An operator looking up a tenant's job by name alone is the usual way to get here.
        tenantId === null ? "among global jobs; a tenant's job is read with its tenantId" : undefined,
      );
    return jobAsSeenBy(job, tenantId);
  }

  async list(filter: JobListFilter = {}): Promise<Job[]> {
    parse(jobListSchema, filter);
    const query: { tenantIds?: TenantIds; enabled?: boolean } = {};
    const tenantIds = tenantIdsOf(filter);
    if (tenantIds) query.tenantIds = tenantIds;
    if (filter.enabled !== undefined) query.enabled = filter.enabled;
    await this.ctx.ready();
    const jobs = await storeCall('listJobs', () => this.ctx.store.listJobs(query));
    const viewer = filter.tenantId ?? null;
    return viewer === null ? jobs : jobs.map((job) => jobAsSeenBy(job, viewer));
  }

  update(name: string, patch: JobUpdate, options?: TenantScope & { dryRun?: false }): Promise<Job>;
  update(name: string, patch: JobUpdate, options: TenantScope & { dryRun: true }): Promise<JobDryRun>;
  update(
    name: string,
    patch: JobUpdate,
    options?: TenantScope & { dryRun?: boolean },
  ): Promise<Job | JobDryRun>;
  async update(
    name: string,
    patch: JobUpdate,
    options: TenantScope & { dryRun?: boolean } = {},
  ): Promise<Job | JobDryRun> {
    const scope = parseScope(options);
    const parsed = parse(jobUpdateSchema, patch);
    const definition = this.#definition(parsed);
    const guard: UpdateGuard = { version: parsed.version, id: parsed.id, tenantId: parsed.tenantId };
    const patchOf = (current: Job): JobPatch => {
      this.#assertTenantExecutors(parsed, current.tenantId);
      return {
        ...definition,
        ...(parsed.updatedBy !== undefined ? { updatedBy: parsed.updatedBy } : {}),
      };
    };
    if (scope.dryRun) return this.#dryRun(name, scope, patchOf, guard);
    const { job } = await this.#apply(
      name,
      scope,
      'updated',
      patchOf,
      { action: 'updated', actor: parsed.updatedBy },
      guard,
    );
    return job;
  }

  /**
   * The job as `patch` would leave it, checked like a real update (its version guard included),
   * and its next instants; nothing is written.
   */
  async #dryRun(
    name: string,
    scope: TenantScope,
    patchOf: (current: Job) => JobPatch,
    guard: UpdateGuard,
  ): Promise<JobDryRun> {
    const current = await this.get(name, { tenantId: scope.tenantId ?? null });
    this.#checkGuard(current, guard);
    const patch = patchOf(current);
    const now = this.ctx.clock.now();
    const job: Job = { ...current, ...patch, version: current.version + 1, updatedAt: now };
    const settled = this.#settle(job, now);
    if (timingChanged(current, patch)) job.nextRunAt = settled;
    this.#checkParams(job);
    this.options.limits.checkDefinition(job, now);
    const next: Date[] = [];
    for (let slot = job.nextRunAt; slot && next.length < DRY_RUN_INSTANTS; slot = nextSlot(job, slot))
      next.push(slot);
    return { ...job, next };
  }

  /**
   * What an update body says about the job it was read from: `tenantId` must be the job's own;
   * with `version`, the job must still be that version of that job (same `id`), else
   * `ConflictError` (someone changed, or deleted and re-created, it since it was read).
   */
  #checkGuard(current: Job, guard: UpdateGuard): void {
    if (guard.tenantId !== undefined && guard.tenantId !== current.tenantId)
      throw ValidationError.field(
        'tenantId',
        `cannot change: job "${current.name}" belongs to ${current.tenantId === null ? 'no tenant (global)' : `tenant "${current.tenantId}"`}`,
      );
    if (guard.version === undefined) return;
    if (guard.id !== undefined && guard.id !== current.id)
      throw new ConflictError(
        `job "${current.name}" is not the job this change was read from (id ${guard.id}, now ${current.id}): it was deleted and created again; read it again and re-apply the change`,
      );
    if (guard.version !== current.version) throw staleVersion(current.name, guard.version, current.version);
  }

  async pause(
    name: string,
    note: string | null = null,
    scope: TenantScope & { by?: string | null } = {},
  ): Promise<Job> {
    // Checked as `pausedNote` is on an update: one store may refuse what another silently alters.
    const checked = parse(pauseNoteSchema, note, 'note');
    const { by } = parseScope(scope);
    const { job } = await this.#apply(
      name,
      scope,
      'paused',
      () => ({ enabled: false, pausedNote: checked, ...(by !== undefined ? { updatedBy: by } : {}) }),
      { action: 'paused', actor: by, note: checked },
    );
    return job;
  }

  /** Resuming also gives `autoPause` a fresh count of failures. */
  async resume(
    name: string,
    scope: TenantScope & { by?: string | null; note?: string | null } = {},
  ): Promise<Job> {
    const { by, note } = parseScope(scope);
    const { job } = await this.#apply(
      name,
      scope,
      'resumed',
      () => ({
        enabled: true,
        pausedNote: null,
        consecutiveFailures: 0,
        ...(by !== undefined ? { updatedBy: by } : {}),
      }),
      { action: 'resumed', actor: by, note: note ?? null },
    );
    return job;
  }

  /**
   * Read, patch, recompute `nextRunAt` when timing changed, compare-and-set (with the audit entry
   * of the fields that changed, in the same store step); retried on races, except when the caller
   * named the version it read: then a race is its `ConflictError`.
   */
  async #apply(
    name: string,
    scope: TenantScope,
    change: JobChange,
    patchOf: (current: Job) => JobPatch,
    audit: AuditNote,
    guard: UpdateGuard = {},
  ): Promise<{ job: Job; written: boolean }> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      // Only the scope's own job: a change never falls back to a global job of that name.
      const current = await this.get(name, { tenantId: parseScope(scope).tenantId ?? null });
      this.#checkGuard(current, guard);
      const patch = patchOf(current);
      const next = { ...current, ...patch };
      const now = this.ctx.clock.now();
      if (timingChanged(current, patch)) patch.nextRunAt = this.#settle(next, now);
      if ('tasks' in patch || 'params' in patch) this.#checkParams(next);
      if ('schedule' in patch || 'timezone' in patch || 'retry' in patch)
        this.options.limits.checkDefinition(next, now);
      const changed = changedFields(current, next);
      // An update that changes nothing writes nothing: a deploy re-applying the same definition
      // must not move `version` under an editor who read it (their guarded update would conflict).
      if (!changed && change === 'updated') return { job: current, written: false };
      const entry: NewAuditEntry | undefined = changed
        ? auditEntry(next, { ...audit, at: now, ...changed })
        : undefined;
      const updated = await storeCall('updateJob', () =>
        this.ctx.store.updateJob({
          id: current.id,
          expectedVersion: current.version,
          patch,
          now,
          ...(entry ? { audit: entry } : {}),
        }),
      );
      if (updated) {
        this.#changed(change, updated);
        return { job: updated, written: true };
      }
      if (guard.version !== undefined) {
        const now = await storeCall('getJob', () => this.ctx.store.getJob(current.id));
        if (!now) throw new NotFoundError('job', name);
        throw staleVersion(name, guard.version, now.version);
      }
    }
    throw new ConflictError(`job "${name}" is being changed concurrently; try again`);
  }

  async delete(name: string, scope: TenantScope & { by?: string | null } = {}): Promise<void> {
    const { by, tenantId } = parseScope(scope);
    const job = await this.get(name, { tenantId: tenantId ?? null });
    const now = this.ctx.clock.now();
    const audit = auditEntry(job, { action: 'deleted', actor: by, at: now, before: definitionOf(job) });
    const deleted = await storeCall('deleteJob', () => this.ctx.store.deleteJob({ id: job.id, now, audit }));
    if (!deleted) throw new NotFoundError('job', name);
    this.ctx.telemetry.forgetJob(job.name, job.tenantId);
    this.ctx.events.emit('job:changed', {
      change: 'deleted',
      jobId: job.id,
      name: job.name,
      tenantId: job.tenantId,
      job: null,
      origin: this.ctx.instanceId,
    });
    this.ctx.publish({
      type: 'job',
      origin: this.ctx.instanceId,
      jobId: job.id,
      name: job.name,
      tenantId: job.tenantId,
      change: 'deleted',
    });
  }

  async seed(inputs?: JobInput[], options: { overwrite?: boolean } = {}) {
    const { overwrite } = parseOptions(seedOptionsSchema, options);
    const list = inputs ?? this.options.defaultJobs();
    if (!Array.isArray(list)) throw ValidationError.field('jobs', 'must be an array of job definitions');
    if (list.length > MAX_SEED)
      throw ValidationError.field('jobs', `holds ${list.length} jobs; seed at most ${MAX_SEED} per call`);
    const now = this.ctx.clock.now();
    const slots = new Map<string, Date | null>();
    // Validate and build everything first so a bad entry changes nothing.
    const built = list.map((input, index) => {
      try {
        const parsed = parse(jobInputSchema, input);
        this.#assertTenantExecutors(parsed, parsed.tenantId ?? null);
        return this.#record(parsed, 'seeded', now, slots);
      } catch (error) {
        if (error instanceof ValidationError) {
          throw new ValidationError(
            error.issues.map((issue) => ({
              ...issue,
              path: [`jobs.${index}`, issue.path].filter(Boolean).join('.'),
            })),
          );
        }
        throw error;
      }
    });
    // A name given twice would be written once and the second definition reported unchanged
    // (or as both created and updated with overwrite): refuse the set instead, naming each repeat.
    const firstOf = new Map<string, number>();
    const repeats: ValidationIssue[] = [];
    built.forEach(({ record }, index) => {
      const key = JSON.stringify([record.tenantId, record.name]);
      const first = firstOf.get(key);
      if (first === undefined) firstOf.set(key, index);
      else
        repeats.push({
          path: `jobs.${index}.name`,
          message: `"${record.name}" is already defined at jobs.${first}: each job appears once per seed`,
        });
    });
    if (repeats.length > 0) throw new ValidationError(repeats);
    const result = { created: [] as string[], updated: [] as string[], unchanged: [] as string[] };
    await this.ctx.ready();
    // One write per chunk; a name already taken (here, or by another instance seeding at the same
    // moment) comes back as null: that is the idempotence seeding promises.
    const records = built.map((entry) => entry.record);
    const inserted = await this.options.limits.admitSeed(records, () =>
      storeCall('insertJobs', () =>
        this.ctx.store.insertJobs(records, { audits: built.map((entry) => entry.audit) }),
      ),
    );
    const taken: JobInput[] = [];
    inserted.forEach((job, index) => {
      const input = list[index] as JobInput;
      if (job) {
        result.created.push(job.name);
        this.#changed('created', job);
      } else if (overwrite) taken.push(input);
      else result.unchanged.push(input.name);
    });
    for (const input of taken) {
      // Seeding applies definitions whatever their version, so an export from elsewhere applies too.
      const { tenantId: _tenant, createdBy: by, version: _version, id: _id, ...patch } = input;
      const parsed = parse(jobUpdateSchema, patch);
      const definition = this.#definition(parsed);
      const { written } = await this.#apply(
        input.name,
        { tenantId: input.tenantId ?? null },
        'updated',
        () => ({ ...definition }),
        { action: 'seeded', actor: by },
      );
      (written ? result.updated : result.unchanged).push(input.name);
    }
    return result;
  }

  #changed(change: JobChange, job: Job): void {
    this.ctx.events.emit('job:changed', {
      change,
      jobId: job.id,
      name: job.name,
      tenantId: job.tenantId,
      job,
      origin: this.ctx.instanceId,
    });
    this.ctx.publish({
      type: 'job',
      origin: this.ctx.instanceId,
      jobId: job.id,
      name: job.name,
      tenantId: job.tenantId,
      change,
    });
    // A new or rescheduled job may be due sooner than the loop's next look.
    this.ctx.publish({ type: 'wake', origin: this.ctx.instanceId });
  }
}
