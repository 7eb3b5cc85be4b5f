import type { ScheduleInput, TriggerInput } from './api.js';
import { auditEntry } from './audit.js';
import type { SchedulerContext } from './context.js';
import { ConflictError, storeCall, ValidationError } from './errors.js';
import { resolveParams } from './execution.js';
import type { Jobs } from './jobs.js';
import { type OneOffBatchDeps, oneOffLabel, oneOffRun, scheduleMany } from './one-off-batch.js';
import type { OneOffGate } from './one-offs.js';
import { retryPolicyOf } from './retry.js';
import { buildRun } from './run-factory.js';
import type { Job, Run } from './types.js';
import { parse, scheduleInputSchema, triggerInputSchema } from './validation.js';

/** What creating runs on request needs of its scheduler. */
export interface RunRequestDeps {
  ctx: SchedulerContext;
  jobs: Pick<Jobs, 'get'>;
  /** The caps on pending one-offs. */
  gate: OneOffGate;
  /** `createRun`'s `announceAs`, when the store publishes the runs it creates itself. */
  announce(): { announceAs?: string };
  /** A run was created here: tell listeners and other instances, and wake the loop. */
  created(run: Run): void;
  /** A batch of one-offs was created here (maybe none). */
  createdMany(runs: Run[]): void;
}

/**
 * Runs created on request rather than by a schedule: "run now" (`trigger`), with a conflict while
 * the job's run is due or running, and one-offs at a future instant (`schedule`, one or a batch).
 */
export class RunRequests {
  constructor(private readonly deps: RunRequestDeps) {}

  /**
   * The job (or executor) a trigger or one-off targets, and the run's base fields. `jobs` shares
   * the job lookups of a batch, which names the same few jobs many times.
   */
  async target(
    input: {
      job?: string | undefined;
      executor?: string | undefined;
      tenantId?: string | null | undefined;
      params?: Record<string, unknown> | undefined;
    },
    jobs?: Map<string, Promise<Job>>,
  ) {
    await this.deps.ctx.ready();
    const tenantId = input.tenantId ?? null;
    let job: Job | null = null;
    if (input.job !== undefined) {
      const key = JSON.stringify([tenantId, input.job]);
      const lookup = jobs?.get(key) ?? this.deps.jobs.get(input.job, { tenantId });
      jobs?.set(key, lookup);
      job = await lookup;
    }
    if (!job) {
      this.deps.ctx.registry.assertRegistered(input.executor as string, 'executor');
      this.deps.ctx.registry.assertTenantMayUse(input.executor as string, tenantId, 'executor');
    }
    const params = (input.params ?? {}) as Run['params'];
    const tasks = job
      ? job.tasks.filter((task) => task.enabled)
      : [{ executor: input.executor as string, params: {} }];
    tasks.forEach((task, index) => {
      try {
        resolveParams(
          this.deps.ctx,
          task.executor,
          { ...(job?.params ?? {}), ...task.params },
          params,
          'params',
        );
      } catch (error) {
        if (error instanceof ValidationError) throw error;
        throw ValidationError.field(
          job ? `tasks.${index}.executor` : 'executor',
          error instanceof Error ? error.message : String(error),
        );
      }
    });
    const policy = retryPolicyOf(
      job ?? { retry: null, tasks: [{ executor: input.executor as string }] },
      this.deps.ctx.registry,
    );
    return { job, tenantId: job?.tenantId ?? tenantId, params, maxAttempts: 1 + (policy?.limit ?? 0) };
  }

  async trigger(input: TriggerInput): Promise<Run> {
    const parsed = parse(triggerInputSchema, input);
    const target = await this.target(parsed);
    await parsed.beforeCreate?.({
      job: target.job,
      executor: parsed.executor ?? null,
      tenantId: target.tenantId,
    });
    const now = this.deps.ctx.clock.now();
    const overlap = parsed.force || target.job?.overlap === 'allow' ? 'allow' : 'queue';
    const run = buildRun({
      job: target.job,
      tenantId: target.tenantId,
      params: target.params,
      maxAttempts: target.maxAttempts,
      executor: parsed.executor ?? null,
      trigger: 'manual',
      runAt: now,
      now,
      triggeredBy: parsed.triggeredBy ?? null,
      overlap,
      scheduledFor: null,
      dedupeKey: null,
      timeoutMs: target.job?.timeoutMs ?? null,
    });
    const audit = auditEntry(target.job ?? { name: null, tenantId: target.tenantId }, {
      action: 'triggered',
      actor: run.triggeredBy,
      at: now,
      after: {
        ...(target.job ? {} : { executor: run.executor }),
        params: run.params,
        ...(parsed.force ? { force: true } : {}),
      },
    });
    const result = await storeCall('createRun', () =>
      this.deps.ctx.store.createRun({
        run,
        now,
        rejectIfActive: overlap !== 'allow',
        audit,
        ...this.deps.announce(),
      }),
    );
    if (!result.created) {
      throw ConflictError.activeRun(parsed.job ?? parsed.executor ?? '', result.run);
    }
    this.deps.created(result.run);
    return result.run;
  }

  /** One one-off, or a batch of them (all or none). */
  schedule(input: ScheduleInput | readonly ScheduleInput[]): Promise<Run | Run[]> {
    if (Array.isArray(input)) return scheduleMany(this.#batchDeps(), input);
    return this.#scheduleOne(input as ScheduleInput);
  }

  /** What a batch of one-offs needs (see one-off-batch.ts). */
  #batchDeps(): OneOffBatchDeps {
    return {
      ctx: this.deps.ctx,
      gate: this.deps.gate,
      target: (input, jobs) => this.target(input, jobs),
      created: (runs) => this.deps.createdMany(runs),
    };
  }

  async #scheduleOne(input: ScheduleInput): Promise<Run> {
    const parsed = parse(scheduleInputSchema, input);
    const now = this.deps.ctx.clock.now();
    if (parsed.at.getTime() <= now.getTime())
      throw ValidationError.field('at', `must be in the future (now is ${now.toISOString()})`);
    const target = await this.target(parsed);
    const run = oneOffRun(target, parsed, now);
    const label = oneOffLabel(parsed);
    const result = await this.deps.gate.admit(run, label, async () => {
      await parsed.beforeCreate?.({
        job: target.job,
        executor: parsed.executor ?? null,
        tenantId: target.tenantId,
        at: parsed.at,
      });
      return storeCall('createRun', () =>
        this.deps.ctx.store.createRun({ run, now, rejectIfActive: false, ...this.deps.announce() }),
      );
    });
    this.deps.created(result.run);
    return result.run;
  }
}
