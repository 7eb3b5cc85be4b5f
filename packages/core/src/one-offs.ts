import type { SchedulerContext } from './context.js';
import { ConflictError, storeCall } from './errors.js';
import type { NewRun } from './store.js';

/** The most pending runs a tenant's one-offs may pile up; null lifts a cap. */
export interface OneOffCaps {
  /** Pending runs of the one-off's job (or of its executor, for a run of an executor alone). */
  perJob: number | null;
  /** Pending runs of the one-off's tenant. */
  perTenant: number | null;
}

/** Default caps: plenty for a schedule of one-offs, far from what a flood would store. */
export const DEFAULT_ONE_OFF_CAPS: Readonly<OneOffCaps> = { perJob: 100, perTenant: 1000 };

/**
 * Admits tenants' one-offs and backfills under the caps. A one-off runs later, so no "already running" check
 * bounds how many a tenant may queue; these caps do. Global one-offs are the host's own (a batch of
 * reminders, a backlog it enqueues on purpose) and are not capped. The count and the creation are
 * serialised per tenant in this instance, so concurrent requests cannot all pass one count;
 * instances sharing a store each keep their own order, so a race across instances can exceed a
 * cap by the requests in flight on the others at that moment.
 */
export class OneOffGate {
  readonly #lanes = new Map<string, Promise<void>>();

  constructor(
    private readonly ctx: SchedulerContext,
    private readonly caps: OneOffCaps,
  ) {}

  /**
   * Check that `count` more runs like `run` (one, or a backfill's batch) fit under the caps, then
   * `create` them, after the tenant's earlier one-offs and backfills.
   */
  admit<T>(run: NewRun, label: string, create: () => Promise<T>, count = 1): Promise<T> {
    if (run.tenantId === null || (this.caps.perJob === null && this.caps.perTenant === null)) return create();
    const lane = JSON.stringify(run.tenantId);
    const previous = this.#lanes.get(lane) ?? Promise.resolve();
    const turn = previous.then(() => this.#check(run, label, count)).then(create);
    const tail = turn.then(
      () => undefined,
      () => undefined,
    );
    this.#lanes.set(lane, tail);
    void tail.then(() => {
      if (this.#lanes.get(lane) === tail) this.#lanes.delete(lane);
    });
    return turn;
  }

  async #check(run: NewRun, label: string, count: number): Promise<void> {
    const { perJob, perTenant } = this.caps;
    const store = this.ctx.store;
    const [target, tenant] = await Promise.all([
      perJob === null
        ? null
        : storeCall('countActive', () => store.countActive({ concurrencyKey: run.concurrencyKey })),
      perTenant === null
        ? null
        : storeCall('countActive', () => store.countActive({ tenantIds: [run.tenantId] })),
    ]);
    const what = count === 1 ? 'a one-off' : `${count} backfilled runs`;
    if (target && perJob !== null && target.pending + count > perJob)
      throw new ConflictError(
        `${label} already has ${target.pending} pending runs, too many for ${what} to join (oneOffLimits.perJob is ${perJob}); cancel some or wait for them to run`,
      );
    if (tenant && perTenant !== null && tenant.pending + count > perTenant)
      throw new ConflictError(
        `tenant "${run.tenantId}" already has ${tenant.pending} pending runs, too many for ${what} to join (oneOffLimits.perTenant is ${perTenant}); cancel some or wait for them to run`,
      );
  }
}
