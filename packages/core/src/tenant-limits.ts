import type { SchedulerContext } from './context.js';
import { formatDuration } from './duration.js';
import { ConflictError, storeCall, ValidationError } from './errors.js';
import { scheduleOf } from './planning.js';
import type { Job, RetryPolicy } from './types.js';

/** Caps on what a tenant's jobs may ask for; null lifts a cap. */
export interface TenantCaps {
  /** Jobs a tenant may own. */
  maxJobs: number | null;
  /** Smallest gap, in ms, between two consecutive slots of a tenant job's schedule. */
  minIntervalMs: number | null;
  /** Largest `retry.limit` of a tenant job. */
  maxRetries: number | null;
}

/** Default caps: far above what a tenant's own schedules need, far below what a flood would store. */
export const DEFAULT_TENANT_CAPS: Readonly<TenantCaps> = {
  maxJobs: 1000,
  minIntervalMs: 60_000,
  maxRetries: 10,
};

/** Consecutive slots a schedule is checked over for `minIntervalMs`. */
const INTERVAL_SAMPLES = 100;

/**
 * Enforces `tenantLimits` on tenants' job writes. Global jobs are the host's own and are not
 * capped. Creations are counted and made one at a time per tenant in this instance, so concurrent
 * requests cannot all pass one count; instances sharing a store each keep their own order.
 */
export class TenantLimits {
  readonly #lanes = new Map<string, Promise<void>>();

  constructor(
    private readonly ctx: SchedulerContext,
    private readonly caps: TenantCaps,
  ) {}

  /** The definition checks: schedule frequency and retry count (400 naming the field). */
  checkDefinition(
    job: Pick<Job, 'tenantId' | 'schedule' | 'timezone'> & { retry: RetryPolicy | null },
    now: Date,
  ): void {
    if (job.tenantId === null) return;
    const { minIntervalMs, maxRetries } = this.caps;
    if (maxRetries !== null && job.retry && job.retry.limit > maxRetries)
      throw ValidationError.field(
        'retry.limit',
        `must be at most ${maxRetries} for a tenant's job (tenantLimits.maxRetries)`,
      );
    if (minIntervalMs === null) return;
    // Cached: an import of many tenant jobs repeats a few expressions.
    const schedule = scheduleOf(job);
    let previous = schedule.next(now);
    for (let i = 0; previous && i < INTERVAL_SAMPLES; i++) {
      const next = schedule.next(previous);
      if (!next) break;
      if (next.getTime() - previous.getTime() < minIntervalMs)
        throw ValidationError.field(
          'schedule',
          `"${job.schedule}" fires ${formatDuration(next.getTime() - previous.getTime())} apart (at ${previous.toISOString()} and ${next.toISOString()}); a tenant's job may fire at most once every ${formatDuration(minIntervalMs)} (tenantLimits.minInterval)`,
        );
      previous = next;
    }
  }

  /**
   * Check a seed's new tenant jobs against `maxJobs` (names a tenant already has are updates or
   * no-ops, the rest count), then `write` it: after the earlier creations of every tenant it names
   * and before their later ones, as one creation is, so concurrent seeds cannot all pass one count.
   */
  admitSeed<T>(
    entries: readonly { tenantId: string | null; name: string }[],
    write: () => Promise<T>,
  ): Promise<T> {
    const max = this.caps.maxJobs;
    const byTenant = new Map<string, Set<string>>();
    for (const { tenantId, name } of entries) {
      if (tenantId === null) continue;
      const names = byTenant.get(tenantId) ?? new Set<string>();
      names.add(name);
      byTenant.set(tenantId, names);
    }
    if (max === null || byTenant.size === 0) return write();
    return this.#inLanes([...byTenant.keys()], async () => {
      for (const [tenantId, names] of byTenant) {
        const jobs = await storeCall('listJobs', () => this.ctx.store.listJobs({ tenantIds: [tenantId] }));
        const stored = new Set(jobs.map((job) => job.name));
        const added = [...names].filter((name) => !stored.has(name)).length;
        if (jobs.length + added > max) {
          throw new ConflictError(
            `the seed would give tenant "${tenantId}" ${jobs.length + added} jobs, more than it may own (tenantLimits.maxJobs is ${max})`,
          );
        }
      }
      return write();
    });
  }

  /** Check the tenant's job count, then `create`, after the tenant's earlier creations. */
  admit<T>(tenantId: string | null, create: () => Promise<T>): Promise<T> {
    if (tenantId === null || this.caps.maxJobs === null) return create();
    const max = this.caps.maxJobs;
    return this.#inLanes([tenantId], async () => {
      const jobs = await storeCall('listJobs', () => this.ctx.store.listJobs({ tenantIds: [tenantId] }));
      if (jobs.length >= max) {
        throw new ConflictError(
          `tenant "${tenantId}" already has ${jobs.length} jobs, the most it may own (tenantLimits.maxJobs is ${max}); delete some first`,
        );
      }
      return create();
    });
  }

  /**
   * Run `work` after the work queued before it on any of these tenants' lanes, and before the work
   * queued after it. Every lane is taken at once, when `work` is queued, so no two works can each
   * wait for the other.
   */
  #inLanes<T>(tenantIds: readonly string[], work: () => Promise<T>): Promise<T> {
    const lanes = tenantIds.map((tenantId) => JSON.stringify(tenantId));
    const turn = Promise.all(lanes.map((lane) => this.#lanes.get(lane))).then(work);
    const tail = turn.then(
      () => undefined,
      () => undefined,
    );
    for (const lane of lanes) this.#lanes.set(lane, tail);
    void tail.then(() => {
      for (const lane of lanes) if (this.#lanes.get(lane) === tail) this.#lanes.delete(lane);
    });
    return turn;
  }
}
