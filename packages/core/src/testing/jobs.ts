import { describe, expect, it } from 'vitest';
import type { Job } from '../types.js';
import type { ContractFixture } from './harness.js';
import { at, HOUR, MINUTE, newJob, newRunOf, SECOND, T0 } from './records.js';
import { allRuns, claimExactly, expectCode, race, storedValueIncludes, unknownId } from './steps.js';

/** Job CRUD: insert, lookups, listing, compare-and-set updates, deletion. */
export function jobsContract(fixture: () => ContractFixture): void {
  describe('jobs', () => {
    it('insertJob assigns an id and version 1 and stores every field', async () => {
      const { store, inspect } = fixture();
      const input = newJob({
        name: 'nightly-report',
        tenantId: 'acme',
        description: 'Sends the report',
        schedule: '0 2 * * *',
        timezone: 'Europe/Paris',
        tasks: [
          { executor: 'report.build', enabled: true, params: { format: 'pdf' } },
          { executor: 'report.mail', enabled: false, params: {} },
        ],
        params: { to: ['ops@example.com'] },
        enabled: false,
        pausedNote: 'holidays',
        overlap: 'queue',
        misfire: 'all',
        catchUpLimit: 3,
        misfireGraceMs: 5 * MINUTE,
        timeoutMs: 90 * SECOND,
        retry: { limit: 2, backoff: { type: 'exponential', delay: 1000, max: 60_000 } },
        jitterMs: 250,
        priority: -3,
        activeFrom: at(-HOUR),
        activeUntil: at(HOUR),
        nextRunAt: at(2 * HOUR),
        lastRunAt: at(-MINUTE),
        lastRunId: 'previous-run',
        lastStatus: 'failed',
        lastError: 'it broke',
        lastDurationMs: 1234,
        runCount: 7,
        errorCount: 2,
        createdAt: at(-HOUR),
        createdBy: 'alice',
        updatedAt: at(-MINUTE),
        updatedBy: 'bob',
        metadata: { team: 'data', 'dotted.key': { nested: [1, 'two', null, true, 2.5] } },
      });
      const job = await store.insertJob(input);
      expect(typeof job.id).toBe('string');
      expect(job.id.length).toBeGreaterThan(0);
      expect(job).toEqual({ ...input, id: job.id, version: 1 });
      expect(await store.getJob(job.id)).toEqual(job);
      if (inspect) expect(storedValueIncludes(await inspect.job(job.id), 'nightly-report')).toBe(true);
    });

    it('round-trips dates as Date objects with millisecond precision', async () => {
      const { store } = fixture();
      const job = await store.insertJob(
        newJob({ nextRunAt: at(123), activeFrom: at(-999), createdAt: at(1) }),
      );
      const read = (await store.getJob(job.id)) as Job;
      expect(read.nextRunAt).toBeInstanceOf(Date);
      expect(read.nextRunAt?.getTime()).toBe(T0.getTime() + 123);
      expect(read.activeFrom?.getTime()).toBe(T0.getTime() - 999);
      expect(read.createdAt.getTime()).toBe(T0.getTime() + 1);
      expect(read.activeUntil).toBeNull();
    });

    it('round-trips JSON params and metadata exactly', async () => {
      const { store } = fixture();
      const params = {
        s: 'é ü 日本 "quoted" \\ back',
        n: 0.1,
        neg: -42,
        big: 2 ** 40,
        t: true,
        f: false,
        z: null,
        e: '',
        a: [],
      };
      const metadata = { deep: { list: [{ k: 'v' }, [1, [2]]], empty: {} } };
      const job = await store.insertJob(newJob({ params, metadata }));
      const read = (await store.getJob(job.id)) as Job;
      expect(read.params).toEqual(params);
      expect(read.metadata).toEqual(metadata);
    });

    it('getJob and findJobByName answer null for unknown ids and names, whatever their shape', async () => {
      const { store } = fixture();
      expect(await store.getJob(unknownId())).toBeNull();
      expect(await store.getJob('not-an-id')).toBeNull();
      expect(await store.findJobByName(null, 'nope')).toBeNull();
      expect(await store.findJobByName('acme', 'nope')).toBeNull();
    });

    it('getJobs answers the stored jobs among the ids, each as getJob does, and leaves out the others', async (ctx) => {
      const { store } = fixture();
      ctx.skip(!store.getJobs, 'the store has no getJobs (core then reads jobs one getJob at a time)');
      const getJobs = (store.getJobs as NonNullable<typeof store.getJobs>).bind(store);
      const a = await store.insertJob(newJob({ name: 'a', tenantId: 'acme', metadata: { n: 1 } }));
      const b = await store.insertJob(newJob({ name: 'b', enabled: false, nextRunAt: null }));
      const c = await store.insertJob(newJob({ name: 'c' }));
      await store.deleteJob({ id: c.id, now: T0 });
      const found = await getJobs([b.id, unknownId(), 'not-an-id', a.id, c.id]);
      const byName = (jobs: Job[]) => [...jobs].sort((x, y) => (x.name < y.name ? -1 : 1));
      expect(byName(found)).toEqual([await store.getJob(a.id), await store.getJob(b.id)]);
      expect(await getJobs([])).toEqual([]);
      // The answer is the caller's: changing it changes nothing stored.
      (found.find((job) => job.id === a.id)?.metadata as { n: number }).n = 2;
      expect((await store.getJob(a.id))?.metadata).toEqual({ n: 1 });
    });

    it('a name is unique per tenant: the same name in another tenant or globally is a different job', async () => {
      const { store } = fixture();
      const global = await store.insertJob(newJob({ name: 'sync', tenantId: null }));
      const acme = await store.insertJob(newJob({ name: 'sync', tenantId: 'acme' }));
      const other = await store.insertJob(newJob({ name: 'sync', tenantId: 'other' }));
      expect(new Set([global.id, acme.id, other.id]).size).toBe(3);
      expect((await store.findJobByName(null, 'sync'))?.id).toBe(global.id);
      expect((await store.findJobByName('acme', 'sync'))?.id).toBe(acme.id);
      expect((await store.findJobByName('other', 'sync'))?.id).toBe(other.id);
      expect(await store.findJobByName('missing', 'sync')).toBeNull();
    });

    it('rejects a duplicate (tenantId, name) with ConflictError, global jobs included', async () => {
      const { store } = fixture();
      await store.insertJob(newJob({ name: 'dup', tenantId: 'acme' }));
      await store.insertJob(newJob({ name: 'dup', tenantId: null }));
      await expectCode(store.insertJob(newJob({ name: 'dup', tenantId: 'acme' })), 'CONFLICT');
      await expectCode(store.insertJob(newJob({ name: 'dup', tenantId: null })), 'CONFLICT');
      expect(await store.listJobs({})).toHaveLength(2);
    });

    it('of concurrent inserts of one name across instances exactly one succeeds', async () => {
      const stores = await fixture().instances(2);
      const outcomes = await race(stores, 10, (store) =>
        store.insertJob(newJob({ name: 'raced', tenantId: null })).then(
          (job) => ({ job, code: null }),
          (error: { code?: string }) => ({ job: null, code: error.code ?? String(error) }),
        ),
      );
      expect(outcomes.filter((outcome) => outcome.job)).toHaveLength(1);
      expect(outcomes.filter((outcome) => outcome.code === 'CONFLICT')).toHaveLength(9);
      expect(await fixture().store.listJobs({})).toHaveLength(1);
    });

    it('listJobs orders names and tenants by code point on every store, characters past U+FFFF last', async () => {
      const { store } = fixture();
      // U+FF5A (fullwidth z) before U+1F600 (an emoji): JavaScript's < would order them the other way.
      const names = ['😀', 'ｚ', 'z', 'é'];
      for (const name of names) await store.insertJob(newJob({ name, tenantId: null }));
      await store.insertJob(newJob({ name: 'z', tenantId: '😀' }));
      await store.insertJob(newJob({ name: 'z', tenantId: 'ｚ' }));
      const listed = (await store.listJobs({})).map((job) => `${job.name}/${job.tenantId}`);
      expect(listed).toEqual(['z/null', 'z/ｚ', 'z/😀', 'é/null', 'ｚ/null', '😀/null']);
    });

    it('listJobs orders by name then tenant (global first) and filters by tenant and enabled', async () => {
      const { store } = fixture();
      const insert = (name: string, tenantId: string | null, enabled = true) =>
        store.insertJob(newJob({ name, tenantId, enabled }));
      const gammaAcme = await insert('gamma', 'acme');
      const alphaZeta = await insert('alpha', 'zeta', false);
      const alphaGlobal = await insert('alpha', null);
      const betaGlobal = await insert('beta', null, false);
      const alphaAcme = await insert('alpha', 'acme');
      const ids = (jobs: Job[]) => jobs.map((job) => job.id);
      expect(ids(await store.listJobs({}))).toEqual([
        alphaGlobal.id,
        alphaAcme.id,
        alphaZeta.id,
        betaGlobal.id,
        gammaAcme.id,
      ]);
      expect(ids(await store.listJobs({ tenantIds: [null] }))).toEqual([alphaGlobal.id, betaGlobal.id]);
      expect(ids(await store.listJobs({ tenantIds: ['acme'] }))).toEqual([alphaAcme.id, gammaAcme.id]);
      expect(ids(await store.listJobs({ tenantIds: ['acme', null] }))).toEqual([
        alphaGlobal.id,
        alphaAcme.id,
        betaGlobal.id,
        gammaAcme.id,
      ]);
      expect(await store.listJobs({ tenantIds: [] })).toEqual([]);
      expect(ids(await store.listJobs({ enabled: false }))).toEqual([alphaZeta.id, betaGlobal.id]);
      expect(ids(await store.listJobs({ enabled: true, tenantIds: ['zeta', null] }))).toEqual([
        alphaGlobal.id,
      ]);
    });
  });

  describe('updateJob', () => {
    it('applies the patch when the version matches: version + 1, updatedAt = now, the rest unchanged', async () => {
      const { store, inspect } = fixture();
      const job = await store.insertJob(newJob({ name: 'before', description: 'old', runCount: 4 }));
      const now = at(5 * MINUTE);
      const updated = await store.updateJob({
        id: job.id,
        expectedVersion: 1,
        patch: {
          name: 'after',
          description: null,
          params: { x: 1 },
          nextRunAt: at(HOUR),
          updatedBy: 'carol',
        },
        now,
      });
      expect(updated).toEqual({
        ...job,
        name: 'after',
        description: null,
        params: { x: 1 },
        nextRunAt: at(HOUR),
        updatedBy: 'carol',
        updatedAt: now,
        version: 2,
      });
      expect(await store.getJob(job.id)).toEqual(updated);
      expect(await store.findJobByName(null, 'before')).toBeNull();
      expect((await store.findJobByName(null, 'after'))?.id).toBe(job.id);
      if (inspect) {
        const raw = await inspect.job(job.id);
        expect(storedValueIncludes(raw, 'after')).toBe(true);
        expect(storedValueIncludes(raw, 'before')).toBe(false);
      }
    });

    it('returns null and changes nothing when the version moved or the job is gone', async () => {
      const { store } = fixture();
      const job = await store.insertJob(newJob());
      const first = await store.updateJob({
        id: job.id,
        expectedVersion: 1,
        patch: { description: 'one' },
        now: at(1),
      });
      expect(first?.version).toBe(2);
      expect(
        await store.updateJob({
          id: job.id,
          expectedVersion: 1,
          patch: { description: 'stale' },
          now: at(2),
        }),
      ).toBeNull();
      expect(await store.getJob(job.id)).toEqual(first);
      expect(
        await store.updateJob({
          id: unknownId(),
          expectedVersion: 1,
          patch: { description: 'x' },
          now: at(3),
        }),
      ).toBeNull();
    });

    it('of concurrent updates with the same expected version exactly one wins', async () => {
      const stores = await fixture().instances(2);
      const job = await fixture().store.insertJob(newJob());
      const results = await race(stores, 10, (store, index) =>
        store.updateJob({
          id: job.id,
          expectedVersion: 1,
          patch: { description: `writer ${index}` },
          now: at(index),
        }),
      );
      const winners = results.filter((result) => result !== null);
      expect(winners).toHaveLength(1);
      expect(await fixture().store.getJob(job.id)).toEqual(winners[0]);
      expect(winners[0]?.version).toBe(2);
    });

    it('rejects a rename onto another job of the same tenant with ConflictError; other tenants are free', async () => {
      const { store } = fixture();
      await store.insertJob(newJob({ name: 'taken', tenantId: 'acme' }));
      const job = await store.insertJob(newJob({ name: 'mine', tenantId: 'acme' }));
      await expectCode(
        store.updateJob({ id: job.id, expectedVersion: 1, patch: { name: 'taken' }, now: at(1) }),
        'CONFLICT',
      );
      expect(await store.getJob(job.id)).toEqual(job);
      await store.insertJob(newJob({ name: 'global-name', tenantId: null }));
      const renamed = await store.updateJob({
        id: job.id,
        expectedVersion: 1,
        patch: { name: 'global-name' },
        now: at(2),
      });
      expect(renamed?.name).toBe('global-name');
    });

    it('disabling a job or moving nextRunAt changes what is due', async () => {
      const { store } = fixture();
      const job = await store.insertJob(newJob({ nextRunAt: at(-MINUTE) }));
      expect((await store.findDueJobs({ now: T0, limit: 10 })).map((due) => due.id)).toEqual([job.id]);
      const paused = await store.updateJob({
        id: job.id,
        expectedVersion: 1,
        patch: { enabled: false },
        now: T0,
      });
      expect(await store.findDueJobs({ now: T0, limit: 10 })).toEqual([]);
      await store.updateJob({
        id: job.id,
        expectedVersion: 2,
        patch: { enabled: true, nextRunAt: at(HOUR) },
        now: T0,
      });
      expect(paused?.enabled).toBe(false);
      expect(await store.findDueJobs({ now: T0, limit: 10 })).toEqual([]);
      expect((await store.findDueJobs({ now: at(HOUR), limit: 10 })).map((due) => due.id)).toEqual([job.id]);
    });
  });

  describe('deleteJob', () => {
    it('deletes the job, cancels its pending runs (job_deleted) and keeps other runs', async () => {
      const { store, inspect } = fixture();
      const job = await store.insertJob(newJob({ name: 'doomed', overlap: 'allow' }));
      const running = await store.createRun({
        run: newRunOf(job, { runAt: T0 }),
        now: T0,
        rejectIfActive: false,
      });
      await claimExactly(store, running.run, { now: T0 });
      const due = await store.createRun({
        run: newRunOf(job, { runAt: at(SECOND) }),
        now: T0,
        rejectIfActive: false,
      });
      const later = await store.createRun({
        run: newRunOf(job, { runAt: at(HOUR) }),
        now: T0,
        rejectIfActive: false,
      });
      const now = at(2 * SECOND);
      expect(await store.deleteJob({ id: job.id, now })).toBe(true);
      expect(await store.getJob(job.id)).toBeNull();
      expect(await store.findJobByName(null, 'doomed')).toBeNull();
      if (inspect) expect(await inspect.job(job.id)).toBeNull();
      for (const pending of [due.run, later.run]) {
        const run = await store.getRun(pending.id);
        expect(run?.status).toBe('cancelled');
        expect(run?.error?.code).toBe('job_deleted');
        expect(run?.finishedAt).toEqual(now);
      }
      expect((await store.getRun(running.run.id))?.status).toBe('running');
      expect(
        (await store.claimRuns({ workerId: 'w', now: at(2 * HOUR), limit: 10, leaseMs: MINUTE })).claimed,
      ).toEqual([]);
      expect(await allRuns(store)).toHaveLength(3);
    });

    it('returns false for a job that does not exist, and frees the name for reuse', async () => {
      const { store } = fixture();
      const job = await store.insertJob(newJob({ name: 'reuse' }));
      expect(await store.deleteJob({ id: job.id, now: T0 })).toBe(true);
      expect(await store.deleteJob({ id: job.id, now: T0 })).toBe(false);
      expect(await store.deleteJob({ id: unknownId(), now: T0 })).toBe(false);
      const again = await store.insertJob(newJob({ name: 'reuse' }));
      expect(again.id).not.toBe(job.id);
    });
  });
}
