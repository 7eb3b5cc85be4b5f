import { describe, expect, it } from 'vitest';
import type { ContractFixture } from './harness.js';
import { at, HOUR, MINUTE, newRun, SECOND, T0 } from './records.js';
import { allRuns, createRun, finish, race, startRun, storedValueIncludes, unknownId } from './steps.js';

/** createRun: one-offs, manual runs and retries, deduplicated and optionally exclusive. */
export function createRunContract(fixture: () => ContractFixture): void {
  describe('createRun', () => {
    it('stores the run with every field and assigns an id', async () => {
      const { store, inspect } = fixture();
      const input = newRun({
        jobName: 'report',
        executor: 'report.build',
        tenantId: 'acme',
        trigger: 'once',
        tasks: [
          {
            executor: 'report.build',
            status: 'pending',
            params: { format: 'csv' },
            startedAt: null,
            finishedAt: null,
            result: null,
            error: null,
          },
        ],
        scheduledFor: at(-SECOND),
        runAt: at(HOUR + 7),
        createdAt: at(3),
        params: { recipients: ['a@example.com'], dryRun: false },
        attempt: 2,
        maxAttempts: 3,
        parentRunId: 'parent-run',
        triggeredBy: 'alice',
        priority: 5,
        overlap: 'allow',
        dedupeKey: 'once:report',
        timeoutMs: 30 * SECOND,
      });
      const result = await store.createRun({ run: input, now: T0, rejectIfActive: false });
      expect(result.created).toBe(true);
      expect(typeof result.run.id).toBe('string');
      expect(result.run).toEqual({ ...input, id: result.run.id });
      expect(await store.getRun(result.run.id)).toEqual(result.run);
      expect(await store.getRun(unknownId())).toBeNull();
      expect(await store.getRun('not-an-id')).toBeNull();
      // Ids are exact on every store: the same id in other letter case is another, absent, id.
      const otherCase =
        result.run.id.toUpperCase() === result.run.id
          ? result.run.id.toLowerCase()
          : result.run.id.toUpperCase();
      if (otherCase !== result.run.id) expect(await store.getRun(otherCase)).toBeNull();
      if (inspect) expect(storedValueIncludes(await inspect.run(result.run.id), 'report.build')).toBe(true);
    });

    it('returns the existing run with reason duplicate when the dedupe key exists, even once finished', async () => {
      const { store } = fixture();
      const first = await startRun(store, { dedupeKey: 'retry:abc' });
      const again = await store.createRun({
        run: newRun({ dedupeKey: 'retry:abc' }),
        now: T0,
        rejectIfActive: false,
      });
      expect(again).toEqual({ created: false, reason: 'duplicate', run: await store.getRun(first.id) });
      await finish(store, first, 'failed', at(SECOND));
      const later = await store.createRun({
        run: newRun({ dedupeKey: 'retry:abc' }),
        now: at(HOUR),
        rejectIfActive: true,
      });
      expect(later.created).toBe(false);
      expect(later.created ? null : later.reason).toBe('duplicate');
      expect(later.run.id).toBe(first.id);
      expect(await allRuns(store)).toHaveLength(1);
    });

    it('creates one run per dedupe key when 20 callers on 2 instances race', async () => {
      const stores = await fixture().instances(2);
      const results = await race(stores, 20, (store) =>
        store.createRun({ run: newRun({ dedupeKey: 'slot:raced' }), now: T0, rejectIfActive: false }),
      );
      const created = results.filter((result) => result.created);
      expect(created).toHaveLength(1);
      for (const result of results) expect(result.run.id).toBe(created[0]?.run.id);
      expect(await allRuns(fixture().store)).toHaveLength(1);
    });

    it('with rejectIfActive, refuses while a run of the key is running, and returns that run', async () => {
      const { store } = fixture();
      const running = await startRun(store, { concurrencyKey: 'job:busy', overlap: 'allow' });
      const refused = await store.createRun({
        run: newRun({ concurrencyKey: 'job:busy', runAt: at(SECOND) }),
        now: at(SECOND),
        rejectIfActive: true,
      });
      expect(refused.created).toBe(false);
      expect(refused.created ? null : refused.reason).toBe('active');
      expect(refused.run.id).toBe(running.id);
      expect(refused.run.status).toBe('running');
      const other = await store.createRun({
        run: newRun({ concurrencyKey: 'job:other' }),
        now: T0,
        rejectIfActive: true,
      });
      expect(other.created).toBe(true);
      const forced = await store.createRun({
        run: newRun({ concurrencyKey: 'job:busy' }),
        now: T0,
        rejectIfActive: false,
      });
      expect(forced.created).toBe(true);
    });

    it('with rejectIfActive, a pending run that is due blocks; one due later does not; a finished one does not', async () => {
      const { store } = fixture();
      const later = await createRun(store, { concurrencyKey: 'job:k', runAt: at(HOUR) });
      const whileFuture = await store.createRun({
        run: newRun({ concurrencyKey: 'job:k' }),
        now: T0,
        rejectIfActive: true,
      });
      expect(whileFuture.created).toBe(true);
      const refused = await store.createRun({
        run: newRun({ concurrencyKey: 'job:k' }),
        now: at(MINUTE),
        rejectIfActive: true,
      });
      expect(refused.created).toBe(false);
      expect(refused.created ? null : refused.reason).toBe('active');
      expect(refused.run.id).toBe(whileFuture.run.id);
      await store.cancelRun({ runId: whileFuture.run.id, now: at(MINUTE), by: null });
      await store.cancelRun({ runId: later.id, now: at(MINUTE), by: null });
      const done = await startRun(store, { concurrencyKey: 'job:k' }, { now: at(2 * MINUTE) });
      await finish(store, done, 'succeeded', at(3 * MINUTE));
      const free = await store.createRun({
        run: newRun({ concurrencyKey: 'job:k' }),
        now: at(4 * MINUTE),
        rejectIfActive: true,
      });
      expect(free.created).toBe(true);
    });

    it('with rejectIfActive, exactly one of 20 racing callers on 2 instances creates its run', async () => {
      const stores = await fixture().instances(2);
      const results = await race(stores, 20, (store, index) =>
        store.createRun({
          run: newRun({ concurrencyKey: 'job:exclusive', triggeredBy: `caller-${index}` }),
          now: T0,
          rejectIfActive: true,
        }),
      );
      const created = results.filter((result) => result.created);
      expect(created).toHaveLength(1);
      for (const result of results) {
        if (result.created) continue;
        expect(result.reason).toBe('active');
        expect(result.run.id).toBe(created[0]?.run.id);
      }
      expect(await allRuns(fixture().store)).toHaveLength(1);
    });
  });
}
