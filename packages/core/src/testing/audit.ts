import { describe, expect, it } from 'vitest';
import { encodeAuditCursor } from '../cursor.js';
import type { AuditFilter, NewAuditEntry, Store } from '../store.js';
import type { AuditEntry } from '../types.js';
import type { ContractFixture } from './harness.js';
import { at, DAY, HOUR, MINUTE, newAuditEntry, newJob, newRun, T0 } from './records.js';
import { allAuditEntries, expectCode, race, unknownId } from './steps.js';

/** Record `entries` through job inserts (each entry about a fresh job of its own). */
async function record(store: Store, entries: NewAuditEntry[]): Promise<void> {
  for (const entry of entries) {
    const job = newJob({ tenantId: entry.tenantId });
    if (entry.job !== null) job.name = entry.job;
    await store.insertJob(job, { audit: entry });
  }
}

const withoutId = ({ id: _id, ...entry }: AuditEntry) => entry;

/** The audit trail: entries written with the change they record, listed newest first, pruned. */
export function auditContract(fixture: () => ContractFixture): void {
  describe('audit trail', () => {
    it('insertJob records its entry with the job, and nothing when the name is taken', async () => {
      const { store } = fixture();
      const entry = newAuditEntry({
        action: 'created',
        job: 'audited',
        tenantId: 'acme',
        before: null,
        after: { name: 'audited', schedule: '0 2 * * *', activeFrom: '2026-01-01T00:00:00.000Z' },
      });
      await store.insertJob(newJob({ name: 'audited', tenantId: 'acme' }), { audit: entry });
      const [stored] = (await store.listAudit({ limit: 10 })).items;
      expect(typeof stored?.id).toBe('string');
      expect(stored?.id.length).toBeGreaterThan(0);
      expect(stored && withoutId(stored)).toEqual(entry);
      expect(stored?.at).toBeInstanceOf(Date);
      await expectCode(
        store.insertJob(newJob({ name: 'audited', tenantId: 'acme' }), {
          audit: { ...entry, actor: 'mallory' },
        }),
        'CONFLICT',
      );
      expect((await allAuditEntries(store)).map((item) => item.actor)).toEqual(['alice']);
    });

    it('updateJob records its entry only when the patch is applied', async () => {
      const { store } = fixture();
      const job = await store.insertJob(newJob({ name: 'tuned' }));
      const entry = newAuditEntry({ job: 'tuned', before: { priority: 0 }, after: { priority: 5 } });
      const stale = await store.updateJob({
        id: job.id,
        expectedVersion: 7,
        patch: { priority: 5 },
        now: at(1),
        audit: { ...entry, actor: 'stale-writer' },
      });
      expect(stale).toBeNull();
      expect(
        await store.updateJob({
          id: unknownId(),
          expectedVersion: 1,
          patch: { priority: 5 },
          now: at(1),
          audit: { ...entry, actor: 'ghost' },
        }),
      ).toBeNull();
      expect(await allAuditEntries(store)).toEqual([]);
      const updated = await store.updateJob({
        id: job.id,
        expectedVersion: 1,
        patch: { priority: 5 },
        now: at(2),
        audit: entry,
      });
      expect(updated?.priority).toBe(5);
      expect((await allAuditEntries(store)).map(withoutId)).toEqual([entry]);
    });

    it('an update without an entry records nothing', async () => {
      const { store } = fixture();
      const job = await store.insertJob(newJob());
      await store.updateJob({ id: job.id, expectedVersion: 1, patch: { priority: 1 }, now: at(1) });
      await store.deleteJob({ id: job.id, now: at(2) });
      expect(await allAuditEntries(store)).toEqual([]);
    });

    it('of concurrent updates with the same expected version only the winner’s entry is recorded', async () => {
      const stores = await fixture().instances(2);
      const job = await fixture().store.insertJob(newJob({ name: 'contested' }));
      const results = await race(stores, 8, (store, index) =>
        store.updateJob({
          id: job.id,
          expectedVersion: 1,
          patch: { description: `writer ${index}` },
          now: at(index),
          audit: newAuditEntry({ job: 'contested', actor: `writer ${index}` }),
        }),
      );
      const winner = results.findIndex((result) => result !== null);
      expect(results.filter((result) => result !== null)).toHaveLength(1);
      expect((await allAuditEntries(fixture().store)).map((entry) => entry.actor)).toEqual([
        `writer ${winner}`,
      ]);
    });

    it('deleteJob records its entry only when it deleted the job', async () => {
      const { store } = fixture();
      const job = await store.insertJob(newJob({ name: 'doomed', tenantId: 'acme' }));
      const entry = newAuditEntry({
        action: 'deleted',
        job: 'doomed',
        tenantId: 'acme',
        before: { name: 'doomed' },
        after: null,
      });
      expect(await store.deleteJob({ id: job.id, now: at(1), audit: entry })).toBe(true);
      expect(await store.deleteJob({ id: job.id, now: at(2), audit: { ...entry, actor: 'again' } })).toBe(
        false,
      );
      expect((await allAuditEntries(store)).map(withoutId)).toEqual([entry]);
    });

    it('createRun records its entry with the created run id, and nothing for a duplicate or an active run', async () => {
      const { store } = fixture();
      const entry = newAuditEntry({
        action: 'triggered',
        job: 'nightly',
        before: null,
        after: { params: { day: '2026-01-01' } },
      });
      const created = await store.createRun({
        run: newRun({ concurrencyKey: 'job:nightly', dedupeKey: 'manual:1' }),
        now: T0,
        rejectIfActive: true,
        audit: entry,
      });
      expect(created.created).toBe(true);
      const duplicate = await store.createRun({
        run: newRun({ concurrencyKey: 'job:other', dedupeKey: 'manual:1' }),
        now: T0,
        rejectIfActive: false,
        audit: { ...entry, actor: 'duplicate' },
      });
      const active = await store.createRun({
        run: newRun({ concurrencyKey: 'job:nightly' }),
        now: T0,
        rejectIfActive: true,
        audit: { ...entry, actor: 'active' },
      });
      expect([duplicate.created, active.created]).toEqual([false, false]);
      const entries = await allAuditEntries(store);
      expect(entries.map(withoutId)).toEqual([
        { ...entry, after: { params: { day: '2026-01-01' }, runId: created.run.id } },
      ]);
    });

    it('of concurrent triggers of one exclusive key only the created run has an entry', async () => {
      const stores = await fixture().instances(2);
      const results = await race(stores, 8, (store, index) =>
        store.createRun({
          run: newRun({ concurrencyKey: 'job:busy' }),
          now: T0,
          rejectIfActive: true,
          audit: newAuditEntry({ action: 'triggered', actor: `caller ${index}`, before: null, after: {} }),
        }),
      );
      const created = results.filter((result) => result.created);
      expect(created).toHaveLength(1);
      const entries = await allAuditEntries(fixture().store);
      expect(entries).toHaveLength(1);
      expect(entries[0]?.after).toEqual({ runId: created[0]?.run.id });
    });

    it('lists newest first, ties in the order recorded, and pages without loss or repetition', async () => {
      const { store } = fixture();
      const entries = [
        newAuditEntry({ at: at(MINUTE), actor: 'a' }),
        newAuditEntry({ at: at(3 * MINUTE), actor: 'b' }),
        newAuditEntry({ at: at(2 * MINUTE), actor: 'c' }),
        newAuditEntry({ at: at(2 * MINUTE), actor: 'd' }),
        newAuditEntry({ at: at(2 * MINUTE), actor: 'e' }),
        newAuditEntry({ at: at(-DAY), actor: 'f' }),
      ];
      await record(store, entries);
      const expected = ['b', 'e', 'd', 'c', 'a', 'f'];
      expect((await allAuditEntries(store)).map((entry) => entry.actor)).toEqual(expected);
      for (const limit of [1, 2, 4]) {
        expect((await allAuditEntries(store, {}, limit)).map((entry) => entry.actor)).toEqual(expected);
      }
      const first = await store.listAudit({ limit: 6 });
      expect(first.nextCursor).toBeNull();
      expect(new Set(first.items.map((entry) => entry.id)).size).toBe(6);
    });

    it('filters by tenants, job name and since', async () => {
      const { store } = fixture();
      await record(store, [
        newAuditEntry({ job: 'sync', tenantId: null, actor: 'global', at: at(0) }),
        newAuditEntry({ job: 'sync', tenantId: 'acme', actor: 'acme-sync', at: at(MINUTE) }),
        newAuditEntry({ job: 'report', tenantId: 'acme', actor: 'acme-report', at: at(2 * MINUTE) }),
        newAuditEntry({ job: 'sync', tenantId: 'null', actor: 'tenant-named-null', at: at(3 * MINUTE) }),
      ]);
      const actors = async (filter: Omit<AuditFilter, 'limit' | 'cursor'>) =>
        (await allAuditEntries(store, filter)).map((entry) => entry.actor);
      expect(await actors({ tenantIds: [null] })).toEqual(['global']);
      expect(await actors({ tenantIds: ['acme'] })).toEqual(['acme-report', 'acme-sync']);
      expect(await actors({ tenantIds: ['acme', null] })).toEqual(['acme-report', 'acme-sync', 'global']);
      expect(await actors({ tenantIds: [] })).toEqual([]);
      expect(await actors({ job: 'sync' })).toEqual(['tenant-named-null', 'acme-sync', 'global']);
      expect(await actors({ job: 'sync', tenantIds: ['acme'] })).toEqual(['acme-sync']);
      expect(await actors({ job: 'missing' })).toEqual([]);
      expect(await actors({ since: at(MINUTE) })).toEqual(['tenant-named-null', 'acme-report', 'acme-sync']);
      expect(await actors({ since: at(MINUTE), tenantIds: ['acme'], job: 'report' })).toEqual([
        'acme-report',
      ]);
    });

    it('round-trips before, after and note exactly', async () => {
      const { store } = fixture();
      const before = {
        params: { n: '42', t: 'true', j: '{"a":1}', z: null, u: 'é 日本 "q" \\ ✓', deep: [[1, { x: [] }]] },
        enabled: true,
        catchUpLimit: 0,
      };
      const after = { params: { big: 'x'.repeat(20_000), neg: -1.5, empty: {} }, enabled: false };
      const entry = newAuditEntry({ before, after, note: 'line one\nline "two"' });
      await record(store, [entry]);
      const [stored] = await allAuditEntries(store);
      expect(stored && withoutId(stored)).toEqual(entry);
    });

    it('rejects a cursor it did not make with a ValidationError on cursor', async () => {
      const { store } = fixture();
      await expectCode(store.listAudit({ limit: 10, cursor: 'not-a-cursor' }), 'VALIDATION');
    });

    it('answers a forged cursor of the right shape with a page or a ValidationError on cursor, never a backend error', async () => {
      const { store } = fixture();
      await record(store, [newAuditEntry({ job: 'kept', at: at(0) })]);
      // Entry ids past what any backend's integers hold, and ones no entry ever had.
      for (const id of ['9223372036854775808', '9999999999999999999', '99999999999999999999999', '0', '-1']) {
        const cursor = encodeAuditCursor({ at: T0.getTime() + DAY, id });
        const outcome = await store.listAudit({ limit: 10, cursor }).then(
          (page) => page,
          (error: unknown) => error,
        );
        if (outcome instanceof Error) {
          expect((outcome as { code?: unknown }).code, `${id}: ${outcome.message}`).toBe('VALIDATION');
          expect((outcome as { issues?: { path: string }[] }).issues?.[0]?.path, id).toBe('cursor');
        } else expect(Array.isArray((outcome as { items?: unknown }).items), id).toBe(true);
      }
    });

    it('pruneAudit deletes entries recorded before the threshold, only in the tenants given', async () => {
      const { store } = fixture();
      await record(store, [
        newAuditEntry({ tenantId: 'acme', at: at(-40 * DAY), actor: 'acme-old' }),
        newAuditEntry({ tenantId: 'other', at: at(-40 * DAY), actor: 'other-old' }),
        newAuditEntry({ tenantId: null, at: at(-40 * DAY), actor: 'global-old' }),
        newAuditEntry({ tenantId: 'acme', at: at(-HOUR), actor: 'acme-new' }),
        newAuditEntry({ tenantId: null, at: at(-30 * DAY), actor: 'global-edge' }),
      ]);
      expect(await store.pruneAudit({ before: at(-30 * DAY), tenantIds: ['acme'] })).toBe(1);
      const actors = async () => (await allAuditEntries(store)).map((entry) => entry.actor).sort();
      expect(await actors()).toEqual(['acme-new', 'global-edge', 'global-old', 'other-old']);
      expect(await store.pruneAudit({ before: at(-30 * DAY), tenantIds: [null] })).toBe(1);
      expect(await store.pruneAudit({ before: at(-30 * DAY) })).toBe(1);
      expect(await actors()).toEqual(['acme-new', 'global-edge']);
      expect(await store.pruneAudit({ before: at(-30 * DAY) })).toBe(0);
      expect(await store.pruneAudit({ before: at(0), tenantIds: [] })).toBe(0);
      expect(await store.pruneAudit({ before: at(0) })).toBe(2);
      expect(await allAuditEntries(store)).toEqual([]);
    });
  });
}
