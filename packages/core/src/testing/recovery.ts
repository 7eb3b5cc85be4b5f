import { describe, expect, it } from 'vitest';
import type { Store } from '../store.js';
import type { ContractFixture } from './harness.js';
import { at, MINUTE, newRun, SECOND, T0 } from './records.js';
import {
  allRuns,
  createRun,
  finish,
  finishOne,
  race,
  startRun,
  storedValueIncludes,
  unknownId,
} from './steps.js';

/** Recovery of lapsed leases (fencing out the old worker) and cancelRun. */
export function recoveryContract(fixture: () => ContractFixture): void {
  describe('lease recovery', () => {
    it('findExpiredLeases lists running runs with leaseUntil < now, oldest lease first, at most limit', async () => {
      const { store } = fixture();
      const second = await startRun(store, {}, { now: at(SECOND), leaseMs: 30 * SECOND, workerId: 'w2' });
      const first = await startRun(store, {}, { now: at(2 * SECOND), leaseMs: 10 * SECOND, workerId: 'w1' });
      await startRun(store, {}, { now: at(3 * SECOND), leaseMs: MINUTE, workerId: 'w3' });
      await createRun(store, { runAt: at(-MINUTE) });
      expect(await store.findExpiredLeases({ now: at(12 * SECOND), limit: 10 })).toEqual([]);
      expect(
        (await store.findExpiredLeases({ now: at(12 * SECOND + 1), limit: 10 })).map((run) => run.id),
      ).toEqual([first.id]);
      const both = await store.findExpiredLeases({ now: at(31 * SECOND + 1), limit: 10 });
      expect(both.map((run) => run.id)).toEqual([first.id, second.id]);
      expect(both[0]).toEqual(await store.getRun(first.id));
      expect(
        (await store.findExpiredLeases({ now: at(31 * SECOND + 1), limit: 1 })).map((run) => run.id),
      ).toEqual([first.id]);
    });

    it("fence 'expired' finishes only a lapsed lease; then the old worker can neither renew nor finish", async () => {
      const { store } = fixture();
      const run = await startRun(store, {}, { leaseMs: 30 * SECOND });
      const recover = (now: Date) =>
        finishOne(store, {
          runId: run.id,
          fence: 'expired',
          now,
          status: 'failed',
          result: null,
          error: { code: 'stale', message: 'lapsed' },
        });
      expect(await recover(at(30 * SECOND))).toBeNull();
      expect((await store.getRun(run.id))?.status).toBe('running');
      const recovered = await recover(at(31 * SECOND));
      expect(recovered).toMatchObject({
        status: 'failed',
        error: { code: 'stale' },
        finishedAt: at(31 * SECOND),
      });
      expect(
        (
          await store.renewLease({
            runId: run.id,
            workerId: 'worker-1',
            now: at(32 * SECOND),
            leaseMs: MINUTE,
          })
        ).ok,
      ).toBe(false);
      const late = await finishOne(store, {
        runId: run.id,
        fence: { workerId: 'worker-1' },
        now: at(33 * SECOND),
        status: 'succeeded',
        result: 'late',
        error: null,
      });
      expect(late).toBeNull();
      expect(await store.getRun(run.id)).toEqual(recovered);
      expect(await store.findExpiredLeases({ now: at(MINUTE), limit: 10 })).toEqual([]);
    });

    it('a renewed lease is not recovered', async () => {
      const { store } = fixture();
      const run = await startRun(store, {}, { leaseMs: 30 * SECOND });
      await store.renewLease({
        runId: run.id,
        workerId: 'worker-1',
        now: at(20 * SECOND),
        leaseMs: 30 * SECOND,
      });
      expect(await store.findExpiredLeases({ now: at(31 * SECOND), limit: 10 })).toEqual([]);
      const attempt = await finishOne(store, {
        runId: run.id,
        fence: 'expired',
        now: at(31 * SECOND),
        status: 'failed',
        result: null,
        error: null,
      });
      expect(attempt).toBeNull();
      expect((await store.getRun(run.id))?.status).toBe('running');
    });

    it('when the worker and 10 recoverers on 2 instances race, exactly one finish wins and one retry is made', async () => {
      const stores = await fixture().instances(2);
      const run = await startRun(stores[0] as Store, { maxAttempts: 2 }, { leaseMs: 10 * SECOND });
      const retry = newRun({
        trigger: 'retry',
        attempt: 2,
        parentRunId: run.id,
        dedupeKey: `retry:${run.id}`,
        runAt: at(MINUTE),
      });
      const now = at(11 * SECOND);
      const results = await race(stores, 11, (store, index) =>
        finishOne(store, {
          runId: run.id,
          fence: index === 0 ? { workerId: 'worker-1' } : 'expired',
          now,
          status: index === 0 ? 'succeeded' : 'failed',
          result: null,
          error: index === 0 ? null : { code: 'stale', message: 'lapsed' },
          followUp: index === 0 ? null : retry,
        }),
      );
      const winners = results.filter((result) => result !== null);
      expect(winners).toHaveLength(1);
      expect(await stores[1]?.getRun(run.id)).toEqual(winners[0]);
      const retries = (await allRuns(stores[1] as Store)).filter((stored) => stored.parentRunId === run.id);
      expect(retries).toHaveLength(winners[0]?.status === 'failed' ? 1 : 0);
    });
  });

  describe('cancelRun', () => {
    it('cancels a pending run at once (code cancelled, finishedAt = now) so it is never claimed', async () => {
      const { store, inspect } = fixture();
      const run = await createRun(store, { runAt: at(MINUTE) });
      const cancelled = await store.cancelRun({ runId: run.id, now: at(SECOND), by: 'ops' });
      expect(cancelled).toMatchObject({
        id: run.id,
        status: 'cancelled',
        finishedAt: at(SECOND),
        error: { code: 'cancelled' },
      });
      expect(await store.getRun(run.id)).toEqual(cancelled);
      expect(
        (await store.claimRuns({ workerId: 'w', now: at(MINUTE), limit: 10, leaseMs: MINUTE })).claimed,
      ).toEqual([]);
      if (inspect) expect(storedValueIncludes(await inspect.run(run.id), 'cancelled')).toBe(true);
    });

    it('asks a running run to stop (cancelRequested) and leaves it running for its worker to finish', async () => {
      const { store } = fixture();
      const run = await startRun(store);
      const requested = await store.cancelRun({ runId: run.id, now: at(SECOND), by: 'ops' });
      expect(requested).toEqual({ ...run, cancelRequested: true });
      const finished = await finish(store, run, 'cancelled', at(2 * SECOND), {
        error: { code: 'cancelled', message: 'stopped' },
      });
      expect(finished.status).toBe('cancelled');
    });

    it('returns a terminal run unchanged and null for an unknown run', async () => {
      const { store } = fixture();
      const run = await startRun(store);
      const done = await finish(store, run, 'succeeded', at(SECOND));
      expect(await store.cancelRun({ runId: run.id, now: at(2 * SECOND), by: 'ops' })).toEqual(done);
      expect(await store.getRun(run.id)).toEqual(done);
      expect(await store.cancelRun({ runId: unknownId(), now: T0, by: null })).toBeNull();
    });

    it('racing a cancel with claims leaves the run either cancelled or running with cancelRequested', async () => {
      const stores = await fixture().instances(2);
      const runs = [];
      for (let index = 0; index < 10; index++) runs.push(await createRun(stores[0] as Store));
      await Promise.all([
        ...runs.map((run, index) =>
          (stores[index % 2] as Store).cancelRun({ runId: run.id, now: T0, by: null }),
        ),
        ...stores.map((store) => store.claimRuns({ workerId: 'w', now: T0, limit: 10, leaseMs: MINUTE })),
      ]);
      for (const run of await allRuns(stores[0] as Store)) {
        if (run.status === 'running') expect(run.cancelRequested).toBe(true);
        else expect(run.status).toBe('cancelled');
      }
    });
  });
}
