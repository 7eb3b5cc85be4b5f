import { describe, expect, it } from 'vitest';
import type { RunFilter, Store } from '../store.js';
import type { Job, Run } from '../types.js';
import type { ContractFixture } from './harness.js';
import { at, HOUR, MINUTE, newJob, SECOND, T0 } from './records.js';
import { createRun, expectCode, finish, ofJob, startRun } from './steps.js';

async function ids(store: Store, filter: Omit<RunFilter, 'limit'>): Promise<string[]> {
  const page = await store.listRuns({ limit: 100, ...filter });
  expect(page.nextCursor).toBeNull();
  return page.items.map((run) => run.id);
}

/** Every page of a listing with `limit`, checking each page's size. */
async function pages(
  store: Store,
  filter: Omit<RunFilter, 'limit' | 'cursor'>,
  limit: number,
): Promise<Run[][]> {
  const result: Run[][] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listRuns({ ...filter, limit, cursor });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    result.push(page.items);
    cursor = page.nextCursor;
    if (cursor !== null) expect(typeof cursor).toBe('string');
  } while (cursor !== null && result.length < 50);
  return result;
}

function newestFirst(runs: Run[]): string[] {
  return [...runs]
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .map((run) => run.id);
}

/** getRun and listRuns: filters, newest-first order and cursor paging. */
export function historyContract(fixture: () => ContractFixture): void {
  describe('listRuns', () => {
    it('filters by tenant, status, job, executor, trigger and createdAt, newest first', async () => {
      const { store } = fixture();
      const jobA: Job = await store.insertJob(
        newJob({ tenantId: 'acme', tasks: [{ executor: 'mail.send', enabled: true, params: {} }] }),
      );
      const jobB: Job = await store.insertJob(
        newJob({ tenantId: 'acme', tasks: [{ executor: 'report.build', enabled: true, params: {} }] }),
      );
      const when = (minutes: number) => ({ createdAt: at(-minutes * MINUTE), runAt: at(-minutes * MINUTE) });
      const r1 = await startRun(
        store,
        { ...ofJob(jobA), trigger: 'manual', ...when(5) },
        { now: at(-5 * MINUTE) },
      );
      await finish(store, r1, 'succeeded', at(-5 * MINUTE + SECOND));
      const r2 = await startRun(store, { ...ofJob(jobB), ...when(4) }, { now: at(-4 * MINUTE) });
      await finish(store, r2, 'failed', at(-4 * MINUTE + SECOND));
      const r3 = await createRun(store, {
        executor: 'mail.send',
        trigger: 'once',
        ...when(3),
        runAt: at(HOUR),
      });
      const r4 = await startRun(
        store,
        { executor: 'mail.send', tenantId: 'other', trigger: 'retry', ...when(2) },
        { now: at(-2 * MINUTE) },
      );
      const r5 = await createRun(store, {
        executor: 'report.build',
        trigger: 'manual',
        ...when(1),
        runAt: at(HOUR),
      });
      await store.cancelRun({ runId: r5.id, now: T0, by: null });

      expect(await ids(store, {})).toEqual([r5.id, r4.id, r3.id, r2.id, r1.id]);
      expect(await ids(store, { tenantIds: ['acme'] })).toEqual([r2.id, r1.id]);
      expect(await ids(store, { tenantIds: [null] })).toEqual([r5.id, r3.id]);
      expect(await ids(store, { tenantIds: ['acme', null] })).toEqual([r5.id, r3.id, r2.id, r1.id]);
      expect(await ids(store, { tenantIds: [] })).toEqual([]);
      expect(await ids(store, { statuses: ['running', 'pending'] })).toEqual([r4.id, r3.id]);
      expect(await ids(store, { statuses: ['cancelled', 'failed'] })).toEqual([r5.id, r2.id]);
      expect(await ids(store, { jobId: jobA.id })).toEqual([r1.id]);
      expect(await ids(store, { executor: 'mail.send' })).toEqual([r4.id, r3.id, r1.id]);
      expect(await ids(store, { triggers: ['manual'] })).toEqual([r5.id, r1.id]);
      expect(await ids(store, { triggers: ['once', 'retry'] })).toEqual([r4.id, r3.id]);
      expect(await ids(store, { since: at(-3 * MINUTE) })).toEqual([r5.id, r4.id, r3.id]);
      expect(await ids(store, { until: at(-3 * MINUTE) })).toEqual([r2.id, r1.id]);
      expect(await ids(store, { since: at(-4 * MINUTE), until: at(-2 * MINUTE) })).toEqual([r3.id, r2.id]);
      expect(
        await ids(store, { executor: 'mail.send', tenantIds: ['acme'], statuses: ['succeeded'] }),
      ).toEqual([r1.id]);
      const [latest] = (await store.listRuns({ limit: 1 })).items;
      expect(latest).toEqual(await store.getRun(r5.id));
    });

    it('pages 25 runs with limit 10 into 10, 10 and 5, each run once, then nextCursor null', async () => {
      const { store } = fixture();
      const runs: Run[] = [];
      for (let index = 0; index < 25; index++)
        runs.push(await createRun(store, { createdAt: at(index * SECOND) }));
      const result = await pages(store, {}, 10);
      expect(result.map((page) => page.length)).toEqual([10, 10, 5]);
      expect(result.flat().map((run) => run.id)).toEqual(newestFirst(runs));
    });

    it('pages correctly when runs share one createdAt (ties broken by id)', async () => {
      const { store } = fixture();
      const runs: Run[] = [];
      for (let index = 0; index < 25; index++) runs.push(await createRun(store, { createdAt: T0 }));
      const result = await pages(store, {}, 10);
      expect(result.map((page) => page.length)).toEqual([10, 10, 5]);
      expect(result.flat().map((run) => run.id)).toEqual(newestFirst(runs));
    });

    it('ends with nextCursor null on a full last page, and pages within a filter', async () => {
      const { store } = fixture();
      const wanted: Run[] = [];
      for (let index = 0; index < 20; index++) {
        wanted.push(await createRun(store, { createdAt: at(index * SECOND), executor: 'x.kept' }));
        await createRun(store, { createdAt: at(index * SECOND + 1), executor: 'x.other' });
      }
      const result = await pages(store, { executor: 'x.kept' }, 10);
      expect(result.map((page) => page.length)).toEqual([10, 10]);
      expect(result.flat().map((run) => run.id)).toEqual(newestFirst(wanted));
    });

    it('rejects a cursor it did not issue with a ValidationError', async () => {
      const { store } = fixture();
      await createRun(store);
      await expectCode(store.listRuns({ limit: 10, cursor: 'definitely not a cursor' }), 'VALIDATION');
    });
  });
}
