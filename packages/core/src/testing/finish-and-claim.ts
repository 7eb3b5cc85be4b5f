import { describe, expect, it } from 'vitest';
import { autoPauseNote, type FinishRunInput, type Store } from '../store.js';
import type { Run } from '../types.js';
import type { ContractFixture } from './harness.js';
import { RACE_INSTANCES, RACE_ROUNDS, raceAll, roundStart } from './races.js';
import { at, MINUTE, newJob, newRunOf, SECOND, T0 } from './records.js';
import { allRuns, claimBy, createRun, expectClaimedBy, idsOf, ofJob, startRun } from './steps.js';

const succeeded = (run: Run, now: Date, workerId = run.workerId ?? 'worker-1'): FinishRunInput => ({
  runId: run.id,
  fence: { workerId },
  now,
  status: 'succeeded',
  result: { done: true },
  error: null,
});

/** finishAndClaim: finishRuns then claimRuns in one call, each with its own semantics. */
export function finishAndClaimContract(fixture: () => ContractFixture): void {
  describe('finishAndClaim', () => {
    it('finishes like finishRuns, then claims up to limit in claim order with a lease from now', async () => {
      const { store } = fixture();
      const running = await startRun(store, {}, { now: T0, workerId: 'worker-a' });
      const pending: Run[] = [];
      for (let index = 0; index < 3; index++)
        pending.push(await createRun(store, { runAt: at(index * SECOND), createdAt: at(index) }));
      const now = at(MINUTE);
      const result = await store.finishAndClaim({
        finishes: [succeeded(running, now)],
        claim: claimBy('worker-a', now, 2),
      });
      expect(result.finished).toHaveLength(1);
      expect(result.finished[0]).toMatchObject({
        id: running.id,
        status: 'succeeded',
        result: { done: true },
        finishedAt: now,
        durationMs: MINUTE,
        leaseUntil: null,
      });
      expect(result.claimed.map((run) => run.id)).toEqual(pending.slice(0, 2).map((run) => run.id));
      expectClaimedBy(result.claimed, 'worker-a', now);
      expect(result.skipped).toEqual([]);
      expect((await store.getRun(running.id))?.status).toBe('succeeded');
      expect((await store.getRun((pending[2] as Run).id))?.status).toBe('pending');
    });

    it('answers null for a finish whose fence does not hold, and still claims', async () => {
      const { store } = fixture();
      const running = await startRun(store, {}, { now: T0, workerId: 'worker-a' });
      const waiting = await createRun(store, { runAt: T0 });
      const now = at(SECOND);
      const result = await store.finishAndClaim({
        finishes: [succeeded(running, now, 'worker-b')],
        claim: claimBy('worker-b', now, 5),
      });
      expect(result.finished).toEqual([null]);
      expect(idsOf(result.claimed)).toEqual([waiting.id]);
      expect((await store.getRun(running.id))?.status).toBe('running');
    });

    it('claims a queued run whose key the same call freed, and skips a skip-run whose key stays busy', async () => {
      const { store } = fixture();
      const freed = await startRun(
        store,
        { overlap: 'queue', concurrencyKey: 'job:freed' },
        { now: T0, workerId: 'worker-a' },
      );
      await startRun(store, { overlap: 'skip', concurrencyKey: 'job:busy' }, { now: T0, workerId: 'other' });
      const queued = await createRun(store, { overlap: 'queue', concurrencyKey: 'job:freed', runAt: at(1) });
      const skipping = await createRun(store, { overlap: 'skip', concurrencyKey: 'job:busy', runAt: at(2) });
      const now = at(SECOND);
      const result = await store.finishAndClaim({
        finishes: [succeeded(freed, now)],
        claim: claimBy('worker-a', now, 5),
      });
      expect(result.claimed.map((run) => run.id)).toEqual([queued.id]);
      expect(result.skipped.map((run) => run.id)).toEqual([skipping.id]);
      expect(result.skipped[0]).toMatchObject({ status: 'skipped', error: { code: 'overlap' } });
    });

    it('drains a backlog queued on one key one run at a time, in claim order, around a cancelled run', async () => {
      const { store } = fixture();
      const key = 'executor:backlog';
      const backlog: Run[] = [];
      for (let index = 0; index < 30; index++)
        backlog.push(
          await createRun(store, {
            overlap: 'queue',
            concurrencyKey: key,
            runAt: at(index),
            createdAt: at(index),
          }),
        );
      // Later in claim order than the whole backlog: other keys are not held up behind it.
      const other = await createRun(store, {
        overlap: 'queue',
        concurrencyKey: 'executor:other',
        runAt: at(100),
      });
      const free = await createRun(store, { overlap: 'allow', concurrencyKey: key, runAt: at(101) });
      const ids = backlog.map((run) => run.id);
      // In claim order, not sorted as idsOf sorts them.
      const inOrder = (runs: readonly Run[]) => runs.map((run) => run.id);

      const first = await store.claimRuns(claimBy('worker-a', at(SECOND), 50));
      expect(inOrder(first.claimed)).toEqual([ids[0], other.id, free.id]);
      // Claims while the key is busy start nothing of the backlog, however often they come.
      for (let claim = 0; claim < 3; claim++)
        expect((await store.claimRuns(claimBy('worker-b', at(SECOND), 50))).claimed).toEqual([]);

      const second = await store.finishAndClaim({
        finishes: [succeeded(first.claimed[0] as Run, at(2 * SECOND))],
        claim: claimBy('worker-a', at(2 * SECOND), 50),
      });
      expect(inOrder(second.claimed)).toEqual([ids[1]]);
      // The key frees with no claim in the same call; the run next in line is cancelled before
      // anyone claims it. The one after it must not be stranded.
      await store.finishRuns([succeeded(second.claimed[0] as Run, at(3 * SECOND))]);
      expect(
        (await store.cancelRun({ runId: ids[2] as string, now: at(3 * SECOND), by: null }))?.status,
      ).toBe('cancelled');
      let running = (await store.claimRuns(claimBy('worker-b', at(4 * SECOND), 50))).claimed;
      const order = inOrder(running);
      for (let step = 5; running.length > 0; step++) {
        const now = at(step * SECOND);
        const next = await store.finishAndClaim({
          finishes: running.map((run) => succeeded(run, now)),
          claim: claimBy(step % 2 === 0 ? 'worker-a' : 'worker-b', now, 50),
        });
        running = next.claimed;
        order.push(...inOrder(running));
        expect(running.length).toBeLessThanOrEqual(1);
      }
      expect(order).toEqual(ids.slice(3));
      const statuses = await Promise.all(ids.map(async (id) => (await store.getRun(id))?.status));
      expect(statuses.filter((status) => status === 'succeeded')).toHaveLength(29);
      expect(statuses[2]).toBe('cancelled');
    });

    it('claims a retry due at once that one of its own finishes created', async () => {
      const { store } = fixture();
      const job = await store.insertJob(newJob({ overlap: 'allow', nextRunAt: at(MINUTE) }));
      const failing = await startRun(store, ofJob(job), { now: T0, workerId: 'worker-a' });
      const now = at(SECOND);
      const result = await store.finishAndClaim({
        finishes: [
          {
            runId: failing.id,
            fence: { workerId: 'worker-a' },
            now,
            status: 'failed',
            result: null,
            error: { code: 'error', message: 'boom' },
            followUp: newRunOf(job, { trigger: 'retry', attempt: 2, runAt: now, parentRunId: failing.id }),
          },
        ],
        claim: claimBy('worker-a', now, 5),
      });
      expect(result.finished.map((run) => run?.status)).toEqual(['failed']);
      expect(result.claimed).toMatchObject([
        { trigger: 'retry', parentRunId: failing.id, status: 'running', workerId: 'worker-a' },
      ]);
    });

    it("keeps finishRuns' bookkeeping: job counters, auto-pause with its audit entry, and the retry", async () => {
      const { store } = fixture();
      const job = await store.insertJob(
        newJob({ overlap: 'allow', autoPause: { afterFailures: 1 }, nextRunAt: at(MINUTE) }),
      );
      const failing = await startRun(store, ofJob(job), { now: T0, workerId: 'worker-a' });
      const retried = await startRun(store, ofJob(job), { now: at(1), workerId: 'worker-a' });
      const now = at(SECOND);
      const failure = { code: 'error', message: 'boom' };
      const result = await store.finishAndClaim({
        finishes: [
          {
            runId: retried.id,
            fence: { workerId: 'worker-a' },
            now,
            status: 'failed',
            result: null,
            error: failure,
            followUp: newRunOf(job, {
              trigger: 'retry',
              attempt: 2,
              runAt: at(MINUTE),
              parentRunId: retried.id,
            }),
          },
          {
            runId: failing.id,
            fence: { workerId: 'worker-a' },
            now,
            status: 'failed',
            result: null,
            error: failure,
          },
        ],
        claim: claimBy('worker-a', now, 1),
      });
      expect(result.finished.map((run) => run?.status)).toEqual(['failed', 'failed']);
      expect(result.finished.map((run) => run?.pausedJob)).toEqual([undefined, true]);
      // The retry is due later: created, not claimed.
      expect(result.claimed).toEqual([]);
      const retries = (await allRuns(store, { jobId: job.id })).filter((run) => run.trigger === 'retry');
      expect(retries).toMatchObject([{ status: 'pending', parentRunId: retried.id }]);
      expect(await store.getJob(job.id)).toMatchObject({
        enabled: false,
        pausedNote: autoPauseNote(1),
        runCount: 2,
        errorCount: 2,
        lastStatus: 'failed',
        lastRunId: failing.id,
      });
      expect((await store.listAudit({ limit: 10 })).items.map((entry) => entry.action)).toEqual(['paused']);
    });

    it(`racing on ${RACE_INSTANCES} instances (${RACE_ROUNDS} rounds), never claims one run twice, and refuses finishing another worker's run`, async () => {
      const stores = await fixture().instances(RACE_INSTANCES);
      const first = stores[0] as Store;
      for (let round = 0; round < RACE_ROUNDS; round++) {
        const now = roundStart(round);
        const workers = stores.map((_, index) => `worker-${index}`);
        const running: Run[] = [];
        for (const workerId of workers) running.push(await startRun(first, {}, { now, workerId }));
        const pending: Run[] = [];
        for (let index = 0; index < 5; index++)
          pending.push(
            await createRun(first, { runAt: now, createdAt: new Date(now.getTime() + index) }, now),
          );
        const finishAt = new Date(now.getTime() + SECOND);
        const answers = await raceAll(
          round,
          stores.map((store, index) => () => {
            const run = running[index] as Run;
            // Each instance also tries to finish the next instance's run: the fence refuses it.
            const other = running[(index + 1) % running.length] as Run;
            return store.finishAndClaim({
              finishes: [succeeded(run, finishAt), succeeded(other, finishAt, run.workerId ?? '')],
              claim: claimBy(run.workerId ?? '', finishAt, 2),
            });
          }),
        );
        const claimed = answers.flatMap((answer) => answer.claimed.map((run) => run.id));
        expect(new Set(claimed).size, `round ${round}: a run was claimed twice`).toBe(claimed.length);
        expect(answers.map((answer) => answer.finished[0]?.status)).toEqual(workers.map(() => 'succeeded'));
        expect(answers.map((answer) => answer.finished[1])).toEqual(workers.map(() => null));
        for (const [index, answer] of answers.entries())
          for (const run of answer.claimed) expect(run.workerId).toBe(workers[index]);
        // A run no caller claimed (one may pass over a run another has locked) stays claimable.
        const stored = await Promise.all(pending.map((run) => first.getRun(run.id)));
        expect(stored.map((run) => run?.status)).toEqual(
          pending.map((run) => (claimed.includes(run.id) ? 'running' : 'pending')),
        );
        // Leftovers would be due in the next round: a worker of no instance takes them.
        await first.claimRuns(claimBy('sweeper', finishAt, pending.length));
      }
    });
  });
}
