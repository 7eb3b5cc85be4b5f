import { describe, expect, it } from 'vitest';
import type { ContractFixture } from './harness.js';
import { at, HOUR, T0 } from './records.js';
import { createRun, finish, startRun } from './steps.js';

/**
 * countActive per concurrency key: how many runs of one job (or one executor run alone) wait or
 * run, which core reads to cap the pending one-offs a job may pile up.
 */
export function activeCountsContract(fixture: () => ContractFixture): void {
  describe('countActive by concurrencyKey', () => {
    it("counts one key's pending and running runs, within the tenants given", async () => {
      const { store } = fixture();
      const key = 'job:reports';
      const acme = { tenantId: 'acme', concurrencyKey: key, overlap: 'queue' as const };
      const done = await startRun(
        store,
        { ...acme, runAt: at(-HOUR), createdAt: at(-HOUR) },
        { now: at(-HOUR) },
      );
      await finish(store, done, 'succeeded', at(-HOUR + 1));
      await startRun(store, acme);
      await createRun(store, { ...acme, runAt: at(HOUR) });
      await createRun(store, { ...acme, trigger: 'once', runAt: at(2 * HOUR) });
      await createRun(store, { tenantId: 'acme', concurrencyKey: 'job:other', runAt: at(HOUR) });
      await createRun(store, { tenantId: 'globex', concurrencyKey: 'job:theirs', runAt: at(HOUR) });

      expect(await store.countActive({ concurrencyKey: key })).toEqual({ pending: 2, running: 1 });
      expect(await store.countActive({ concurrencyKey: key, tenantIds: ['acme'] })).toEqual({
        pending: 2,
        running: 1,
      });
      expect(await store.countActive({ concurrencyKey: key, tenantIds: ['globex', null] })).toEqual({
        pending: 0,
        running: 0,
      });
      expect(await store.countActive({ concurrencyKey: 'job:none' })).toEqual({ pending: 0, running: 0 });
      expect(await store.countActive({ tenantIds: ['acme'] })).toEqual({ pending: 3, running: 1 });
      const cancelled = await createRun(store, { ...acme, runAt: at(3 * HOUR) });
      await store.cancelRun({ runId: cancelled.id, now: T0, by: null });
      expect(await store.countActive({ concurrencyKey: key })).toEqual({ pending: 2, running: 1 });
    });
  });
}
