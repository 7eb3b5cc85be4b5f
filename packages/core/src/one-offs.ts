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
    return this.admitMany(new Array<NewRun>(count).fill(run), new Array<string>(count).fill(label), create);
  }

  /**
   * Check a batch against the caps as a whole (each cap with every run of the batch it covers
   * added), then `create` it, after the earlier one-offs of every tenant in it. All or nothing:
   * one cap crossed refuses the batch.
   */
  admitMany<T>(runs: readonly NewRun[], labels: readonly string[], create: () => Promise<T>): Promise<T> {
    const capped = runs.some((run) => run.tenantId !== null);
    if (!capped || (this.caps.perJob === null && this.caps.perTenant === null)) return create();
    const lanes = [
      ...new Set(runs.flatMap((run) => (run.tenantId === null ? [] : [JSON.stringify(run.tenantId)]))),
    ];
    const previous = Promise.all(lanes.map((lane) => this.#lanes.get(lane) ?? Promise.resolve()));
    const turn = previous.then(() => this.#check(runs, labels)).then(create);
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

  async #check(runs: readonly NewRun[], labels: readonly string[]): Promise<void> {
    const { perJob, perTenant } = this.caps;
    const store = this.ctx.store;
    // What the batch adds per target and per tenant; global one-offs are not capped.
    const targets = new Map<string, { added: number; label: string }>();
    const tenants = new Map<string, { added: number; tenantId: string }>();
    runs.forEach((run, index) => {
      if (run.tenantId === null) return;
      const target = targets.get(run.concurrencyKey) ?? { added: 0, label: labels[index] as string };
      target.added += 1;
      targets.set(run.concurrencyKey, target);
      const tenant = tenants.get(run.tenantId) ?? { added: 0, tenantId: run.tenantId };
      tenant.added += 1;
      tenants.set(run.tenantId, tenant);
    });
    const count = (query: Parameters<typeof store.countActive>[0]) =>
      storeCall('countActive', () => store.countActive(query));
    const [targetCounts, tenantCounts] = await Promise.all([
      perJob === null ? [] : Promise.all([...targets.keys()].map((key) => count({ concurrencyKey: key }))),
      perTenant === null
        ? []
        : Promise.all([...tenants.keys()].map((tenantId) => count({ tenantIds: [tenantId] }))),
    ]);
    const more = (added: number) => (added > 1 ? `; the ${added} asked for would pass it` : '');
    [...targets.values()].forEach(({ added, label }, index) => {
      const pending = targetCounts[index]?.pending ?? 0;
      if (perJob !== null && pending + added > perJob)
        throw new ConflictError(
          `${label} already has ${pending} pending runs, the most a one-off may join (oneOffLimits.perJob is ${perJob})${more(added)}; cancel some or wait for them to run`,
        );
    });
    [...tenants.values()].forEach(({ added, tenantId }, index) => {
      const pending = tenantCounts[index]?.pending ?? 0;
      if (perTenant !== null && pending + added > perTenant)
        throw new ConflictError(
          `tenant "${tenantId}" already has ${pending} pending runs, the most a one-off may join (oneOffLimits.perTenant is ${perTenant})${more(added)}; cancel some or wait for them to run`,
        );
    });
  }
}
