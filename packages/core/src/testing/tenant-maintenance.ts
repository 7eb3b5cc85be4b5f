import { describe, expect, it } from 'vitest';
import type { ContractFixture } from './harness.js';
import { at, DAY, MINUTE, newJob, T0 } from './records.js';
import { createRun, ofJob, startRun } from './steps.js';

const error = { code: 'stale', message: 'in progress for more than 3 days' };

/**
 * Maintenance run for one tenant touches that tenant's runs only: a tenant's sweep must never
 * fail another tenant's (or a global) run, nor report it.
 */
export function tenantMaintenanceContract(fixture: () => ContractFixture): void {
  describe('failStaleRuns with tenantIds', () => {
    it("fails only the given tenants' stale runs and leaves every other run running", async () => {
      const { store } = fixture();
      const acmeJob = await store.insertJob(newJob({ tenantId: 'acme' }));
      const globexJob = await store.insertJob(newJob({ tenantId: 'globex' }));
      const acme = await startRun(store, ofJob(acmeJob), { now: at(-5 * DAY) });
      const globex = await startRun(store, ofJob(globexJob), { now: at(-5 * DAY) });
      const global = await startRun(store, {}, { now: at(-5 * DAY) });
      const sweep = (tenantIds: (string | null)[]) =>
        store.failStaleRuns({ startedBefore: at(-3 * DAY), now: T0, error, tenantIds });

      expect(await sweep([])).toEqual([]);
      expect((await sweep(['acme'])).map((run) => run.id)).toEqual([acme.id]);
      expect((await store.getRun(globex.id))?.status).toBe('running');
      expect((await store.getRun(global.id))?.status).toBe('running');
      expect(await store.getJob(globexJob.id)).toMatchObject({ lastStatus: null, errorCount: 0 });
      expect((await sweep([null])).map((run) => run.id)).toEqual([global.id]);
      expect((await store.getRun(globex.id))?.status).toBe('running');
      expect((await sweep(['globex', 'acme'])).map((run) => run.id)).toEqual([globex.id]);
    });

    it("finds a tenant's stale run behind hundreds of other tenants' older ones", async () => {
      const { store } = fixture();
      const others = 520;
      const started = at(-6 * DAY);
      for (let first = 0; first < others; first += 40) {
        await Promise.all(
          Array.from({ length: Math.min(40, others - first) }, () =>
            createRun(store, { tenantId: 'globex', runAt: started, createdAt: started }, started),
          ),
        );
      }
      let claimed = 0;
      while (claimed < others) {
        const batch = await store.claimRuns({ workerId: 'w', now: started, limit: 200, leaseMs: MINUTE });
        expect(batch.claimed.length).toBeGreaterThan(0);
        claimed += batch.claimed.length;
      }
      const acme = await startRun(store, { tenantId: 'acme' }, { now: at(-4 * DAY) });
      const failed = await store.failStaleRuns({
        startedBefore: at(-3 * DAY),
        now: T0,
        error,
        tenantIds: ['acme'],
      });
      expect(failed.map((run) => run.id)).toEqual([acme.id]);
      const { running } = await store.countActive({ tenantIds: ['globex'] });
      expect(running).toBe(others);
    });
  });
}
