import { describe, expect, it } from 'vitest';
import type { NewJob, NewRun, Store } from '../store.js';
import type { ContractFixture } from './harness.js';
import { at, HOUR, MINUTE, newAuditEntry, newJob, newRun, T0 } from './records.js';
import { allAuditEntries, allRuns, race } from './steps.js';

/**
 * Sizes that cross every adapter's chunk boundaries (500 and 1 000 records per round trip), so a
 * record lost or misplaced between two chunks shows.
 */
const ACROSS_CHUNKS = 1_201;
/** Indexes on either side of those boundaries. */
const BOUNDARIES = [0, 499, 500, 501, 999, 1_000, 1_001, 1_200];

/** createRuns and insertJobs: many records per call, in order, each as its single write would. */
export function bulkContract(fixture: () => ContractFixture): void {
  describe('createRuns', () => {
    it('creates every run in input order across chunk boundaries, each stored as given', async () => {
      const { store } = fixture();
      const runs: NewRun[] = Array.from({ length: ACROSS_CHUNKS }, (_, index) =>
        newRun({
          trigger: 'once',
          runAt: at(HOUR + index),
          scheduledFor: at(HOUR + index),
          params: { index },
          tenantId: index % 2 === 0 ? 'acme' : null,
        }),
      );
      const results = await store.createRuns(runs.map((run) => ({ run, now: T0, rejectIfActive: false })));
      expect(results).toHaveLength(ACROSS_CHUNKS);
      expect(results.every((result) => result.created)).toBe(true);
      expect(new Set(results.map((result) => result.run.id)).size).toBe(ACROSS_CHUNKS);
      for (const index of BOUNDARIES) {
        const result = results[index];
        expect(result?.run).toEqual({ ...runs[index], id: result?.run.id });
        expect(await store.getRun(result?.run.id as string)).toEqual(result?.run);
      }
      const stored = await allRuns(store);
      expect(stored).toHaveLength(ACROSS_CHUNKS);
      expect(stored.filter((run) => run.tenantId === 'acme')).toHaveLength(601);
    });

    it('answers a dedupe key already stored, or repeated in the batch, with the run holding it', async () => {
      const { store } = fixture();
      const held = await store.createRun({
        run: newRun({ dedupeKey: 'held' }),
        now: T0,
        rejectIfActive: false,
      });
      const runs = Array.from({ length: ACROSS_CHUNKS }, (_, index) =>
        newRun({ dedupeKey: index === 3 ? 'held' : index === 1_100 ? 'twice' : `key-${index}` }),
      );
      runs[7] = newRun({ dedupeKey: 'twice' });
      const results = await store.createRuns(runs.map((run) => ({ run, now: T0, rejectIfActive: false })));
      expect(results[3]).toEqual({ created: false, reason: 'duplicate', run: held.run });
      expect(results[7]?.created).toBe(true);
      expect(results[1_100]).toEqual({ created: false, reason: 'duplicate', run: results[7]?.run });
      expect(results.filter((result) => result.created)).toHaveLength(ACROSS_CHUNKS - 2);
      expect(await allRuns(store)).toHaveLength(ACROSS_CHUNKS - 1);
    });

    it('applies rejectIfActive to the inputs that ask for it, as createRun does', async () => {
      const { store } = fixture();
      const busy = await store.createRun({
        run: newRun({ concurrencyKey: 'job:busy', runAt: at(-MINUTE) }),
        now: T0,
        rejectIfActive: false,
      });
      const results = await store.createRuns([
        { run: newRun({ concurrencyKey: 'job:busy' }), now: T0, rejectIfActive: true },
        { run: newRun({ concurrencyKey: 'job:busy' }), now: T0, rejectIfActive: false },
        { run: newRun({ concurrencyKey: 'job:idle' }), now: T0, rejectIfActive: true },
      ]);
      expect(results[0]).toEqual({ created: false, reason: 'active', run: busy.run });
      expect(results[1]?.created).toBe(true);
      expect(results[2]?.created).toBe(true);
    });

    it('creates each dedupe key once when instances create the same runs at once', async () => {
      const { instances } = fixture();
      const stores = await instances(2);
      const keys = Array.from({ length: 600 }, (_, index) => `slot-${index}`);
      const outcomes = await race(stores, 2, (store) =>
        store.createRuns(
          keys.map((key) => ({ run: newRun({ dedupeKey: key }), now: T0, rejectIfActive: false })),
        ),
      );
      keys.forEach((_, index) => {
        const [a, b] = outcomes.map((results) => results[index]);
        expect([a?.created, b?.created].filter(Boolean)).toHaveLength(1);
        expect(a?.run.id).toBe(b?.run.id);
      });
      expect(await allRuns(stores[1] as Store)).toHaveLength(600);
    });

    it('accepts an empty batch', async () => {
      expect(await fixture().store.createRuns([])).toEqual([]);
    });
  });

  describe('insertJobs', () => {
    it('inserts every job in input order across chunk boundaries, each stored as given', async () => {
      const { store, inspect } = fixture();
      const jobs: NewJob[] = Array.from({ length: ACROSS_CHUNKS }, (_, index) =>
        newJob({ nextRunAt: at(MINUTE + index), metadata: { index } }),
      );
      const results = await store.insertJobs(jobs);
      expect(results).toHaveLength(ACROSS_CHUNKS);
      for (const index of BOUNDARIES) {
        const job = results[index];
        expect(job).toEqual({ ...jobs[index], id: job?.id, version: 1 });
        expect(await store.getJob(job?.id as string)).toEqual(job);
        expect(await store.findJobByName(null, jobs[index]?.name as string)).toEqual(job);
        if (inspect) expect(await inspect.job(job?.id as string)).not.toBeNull();
      }
      expect(await store.listJobs({})).toHaveLength(ACROSS_CHUNKS);
      // Inserted jobs are due like any other: the scheduling index knows them.
      expect(await store.findDueJobs({ now: at(MINUTE + 2), limit: 10 })).toHaveLength(3);
    });

    it('keeps what it stored apart from its input and its answer: changing either later changes nothing stored', async () => {
      const { store } = fixture();
      const jobs: NewJob[] = Array.from({ length: ACROSS_CHUNKS }, (_, index) =>
        newJob({
          params: { index, nested: { list: [index] } },
          metadata: { tags: ['a'] },
          tasks: [{ executor: 'echo', enabled: true, params: { step: index } }],
          nextRunAt: at(MINUTE + index),
        }),
      );
      const results = await store.insertJobs(jobs);
      const expected = results.map((job) => structuredClone(job));
      // A caller reuses its records, or hands the answer to code that edits it.
      for (const job of [...jobs, ...results]) {
        if (!job) continue;
        (job.params.nested as { list: number[] }).list.push(-1);
        (job.metadata.tags as string[]).push('changed');
        (job.tasks[0] as { params: Record<string, unknown> }).params.step = 'changed';
        (job.nextRunAt as Date).setTime(0);
        job.params.index = -1;
      }
      for (const index of BOUNDARIES) {
        const stored = await store.getJob(results[index]?.id as string);
        expect(stored).toEqual(expected[index]);
      }
      expect(await store.findDueJobs({ now: at(MINUTE + 1), limit: 10 })).toHaveLength(2);
    });

    it('reports names already taken, or repeated in the batch, as null and leaves the stored job alone', async () => {
      const { store } = fixture();
      const existing = await store.insertJob(newJob({ name: 'taken', description: 'original' }));
      const results = await store.insertJobs([
        newJob({ name: 'fresh' }),
        newJob({ name: 'taken', description: 'replacement' }),
        newJob({ name: 'twice', description: 'first' }),
        newJob({ name: 'twice', description: 'second' }),
      ]);
      expect(results.map((job) => job?.name ?? null)).toEqual(['fresh', null, 'twice', null]);
      expect(await store.getJob(existing.id)).toEqual(existing);
      expect((await store.findJobByName(null, 'twice'))?.description).toBe('first');
      expect(await store.listJobs({})).toHaveLength(3);
    });

    it('keeps names per tenant: the same name in another tenant, or globally, is a job of its own', async () => {
      const { store } = fixture();
      await store.insertJob(newJob({ name: 'nightly', tenantId: 'acme' }));
      const results = await store.insertJobs([
        newJob({ name: 'nightly', tenantId: 'acme' }),
        newJob({ name: 'nightly', tenantId: 'globex' }),
        newJob({ name: 'nightly', tenantId: null }),
      ]);
      expect(results.map((job) => (job ? job.tenantId : 'refused'))).toEqual(['refused', 'globex', null]);
      expect(await store.listJobs({ tenantIds: ['globex'] })).toHaveLength(1);
      expect(await store.listJobs({ tenantIds: ['acme'] })).toHaveLength(1);
      expect(await store.listJobs({ tenantIds: [null] })).toHaveLength(1);
    });

    it('records the audit entry of each job inserted, and none for a name refused', async () => {
      const { store } = fixture();
      await store.insertJob(newJob({ name: 'taken' }));
      const jobs = [
        newJob({ name: 'a' }),
        newJob({ name: 'taken' }),
        newJob({ name: 'b', tenantId: 'acme' }),
      ];
      await store.insertJobs(jobs, {
        audits: jobs.map((job) =>
          newAuditEntry({ action: 'seeded', job: job.name, tenantId: job.tenantId, at: at(1) }),
        ),
      });
      const { items } = await store.listAudit({ limit: 10 });
      expect(items.map((entry) => entry.job).sort()).toEqual(['a', 'b']);
      expect(items.every((entry) => entry.action === 'seeded')).toBe(true);
    });

    it('indexes as due only the enabled jobs with a next run, overall and per tenant, across chunk boundaries', async () => {
      const { store } = fixture();
      // Every third job is paused (with a nextRunAt a careless store would index), every third has no next run.
      const jobs: NewJob[] = Array.from({ length: ACROSS_CHUNKS }, (_, index) =>
        newJob({
          tenantId: index % 2 === 0 ? 'acme' : null,
          enabled: index % 3 !== 1,
          nextRunAt: index % 3 === 2 ? null : at(MINUTE + index),
        }),
      );
      const results = await store.insertJobs(jobs);
      const dueIds = (due: { id: string }[]) => due.map((job) => job.id).sort();
      const expected = (keep: (index: number) => boolean) =>
        results
          .filter((_, index) => index % 3 === 0 && keep(index))
          .map((job) => job?.id as string)
          .sort();
      const now = at(MINUTE + ACROSS_CHUNKS);
      expect(dueIds(await store.findDueJobs({ now, limit: ACROSS_CHUNKS }))).toEqual(expected(() => true));
      // The earliest due job of each tenant: job 0 for acme, job 3 for no tenant (job 1, paused, is earlier).
      expect(await store.nextJobRunAt({ tenantIds: ['acme'] })).toEqual(at(MINUTE));
      expect(await store.nextJobRunAt({ tenantIds: [null] })).toEqual(at(MINUTE + 3));
      expect(await store.nextJobRunAt({})).toEqual(at(MINUTE));
    });

    it("finds each inserted job's audit entry by job name and by tenant, across chunk boundaries", async () => {
      const { store } = fixture();
      const jobs: NewJob[] = Array.from({ length: ACROSS_CHUNKS }, (_, index) =>
        newJob({ name: `imported-${index}`, tenantId: index % 2 === 0 ? 'acme' : 'globex' }),
      );
      await store.insertJobs(jobs, {
        audits: jobs.map((job) =>
          newAuditEntry({ action: 'seeded', job: job.name, tenantId: job.tenantId, at: at(1) }),
        ),
      });
      for (const index of BOUNDARIES) {
        const job = jobs[index] as NewJob;
        const byName = await store.listAudit({ job: job.name, limit: 10 });
        expect(byName.items.map((entry) => [entry.job, entry.tenantId, entry.action])).toEqual([
          [job.name, job.tenantId, 'seeded'],
        ]);
      }
      const acme = await allAuditEntries(store, { tenantIds: ['acme'] }, 500);
      expect(new Set(acme.map((entry) => entry.job)).size).toBe(Math.ceil(ACROSS_CHUNKS / 2));
      expect(acme.every((entry) => entry.tenantId === 'acme')).toBe(true);
      const globex = await allAuditEntries(store, { tenantIds: ['globex'] }, 500);
      expect(new Set(globex.map((entry) => entry.job)).size).toBe(Math.floor(ACROSS_CHUNKS / 2));
    });

    it("lists an import's audit entries, recorded at one instant, in the order recorded across chunk boundaries", async () => {
      const { store } = fixture();
      const jobs: NewJob[] = Array.from({ length: 2 * ACROSS_CHUNKS }, (_, index) =>
        newJob({ name: `ordered-${String(index).padStart(4, '0')}` }),
      );
      await store.insertJobs(jobs, {
        audits: jobs.map((job) => newAuditEntry({ action: 'seeded', job: job.name, at: at(1) })),
      });
      const listed = (await allAuditEntries(store, {}, 500)).map((entry) => entry.job);
      // Newest first; entries of one instant, in the reverse of the order they were recorded.
      expect(listed).toEqual(jobs.map((job) => job.name).reverse());
    });

    it('creates each name exactly once when two instances seed the same jobs at once', async () => {
      const { instances } = fixture();
      const stores = await instances(2);
      const names = Array.from({ length: 700 }, (_, index) => `seeded-${index}`);
      const outcomes = await race(stores, 2, (store) =>
        store.insertJobs(names.map((name) => newJob({ name, tenantId: name.endsWith('7') ? 'acme' : null }))),
      );
      names.forEach((_, index) => {
        const won = outcomes.filter((results) => results[index] !== null);
        expect(won).toHaveLength(1);
      });
      const stored = await stores[1]?.listJobs({});
      expect(stored).toHaveLength(names.length);
    });

    it('accepts an empty batch', async () => {
      expect(await fixture().store.insertJobs([])).toEqual([]);
    });
  });
}
