import { describe, expect, it } from 'vitest';
import type { ClaimResult, FinishRunInput, Store } from '../store.js';
import type { Job, Run } from '../types.js';
import type { ContractFixture } from './harness.js';
import { at, MINUTE, newJob, newRun, SECOND } from './records.js';
import { allRuns, createRun, finish, LEASE_MS, ofJob, startRun } from './steps.js';

/**
 * The claim path raced: each rule the other groups check one call at a time, with several store
 * instances on one database calling at once (`Promise.all`), round after round, and every caller's
 * answer compared with what was stored in the end. A store that serialises its steps correctly
 * passes whatever the interleaving; one with a read-then-write gap fails in some round.
 */

/** Store instances raced in each round (separate connections on one database). */
export const RACE_INSTANCES = 3;
/** Rounds of each race: interleavings differ from round to round. */
export const RACE_ROUNDS = 20;

/**
 * Start `calls` at once, the first of them being a different one each round, and wait for all;
 * answers come back in the order of `calls`. A store that serialises calls in arrival order (the
 * memory store) then lets every caller win some round, as the interleavings of a database do.
 */
export async function raceAll<T extends readonly unknown[]>(
  round: number,
  calls: { [K in keyof T]: () => Promise<T[K]> },
): Promise<T> {
  const results: unknown[] = new Array(calls.length);
  const first = round % calls.length;
  await Promise.all(
    calls.map((_, offset) => {
      const index = (first + offset) % calls.length;
      return (calls[index] as () => Promise<unknown>)().then((value) => {
        results[index] = value;
      });
    }),
  );
  return results as unknown as T;
}

/** The instance for caller `index`, round-robin. */
export const pick = (stores: Store[], index: number): Store => stores[index % stores.length] as Store;

/** `round`'s own instant: each round works in its own minute, an hour apart from the last. */
export const roundStart = (round: number): Date => at(round * 60 * MINUTE);

const later = (date: Date, ms: number) => new Date(date.getTime() + ms);
/** Retries created by the races are due after every round, so no later round claims one. */
const NEVER_DUE = at(1_000 * 24 * 60 * MINUTE);

const finishInput = (
  run: Run,
  workerId: string,
  now: Date,
  status: FinishRunInput['status'],
): FinishRunInput => ({
  runId: run.id,
  fence: { workerId },
  now,
  status,
  result: status === 'succeeded' ? { by: workerId } : null,
  error:
    status === 'succeeded' ? null : { code: status === 'failed' ? 'error' : 'cancelled', message: workerId },
});

/** `count` runs of `job`, created at once and claimed by `workerId` in one call, in runAt order. */
async function startBatch(
  store: Store,
  job: Job,
  count: number,
  now: Date,
  workerId: string,
): Promise<Run[]> {
  await Promise.all(
    Array.from({ length: count }, (_, index) =>
      createRun(store, { ...ofJob(job), runAt: later(now, index), createdAt: later(now, index) }, now),
    ),
  );
  const { claimed } = await store.claimRuns({
    workerId,
    now: later(now, count),
    limit: count,
    leaseMs: LEASE_MS,
  });
  expect(claimed).toHaveLength(count);
  return claimed.sort((a, b) => a.runAt.getTime() - b.runAt.getTime());
}

/** Races on claims, leases and finishes. */
export function racesContract(fixture: () => ContractFixture): void {
  describe(`races (${RACE_INSTANCES} instances, ${RACE_ROUNDS} rounds each)`, () => {
    it('claims racing the finish that frees a queue key: the waiting run is claimed once or stays claimable; a busy key is never claimed', async () => {
      const stores = await fixture().instances(RACE_INSTANCES);
      const first = stores[0] as Store;
      for (let round = 0; round < RACE_ROUNDS; round++) {
        const now = roundStart(round);
        const queue = { overlap: 'queue' as const };
        const freed = await startRun(
          first,
          { ...queue, concurrencyKey: `job:freed-${round}` },
          { now, workerId: 'holder' },
        );
        const held = await startRun(
          first,
          { ...queue, concurrencyKey: `job:held-${round}` },
          { now, workerId: 'holder' },
        );
        const waiting = await createRun(
          first,
          { ...queue, concurrencyKey: `job:freed-${round}`, runAt: now },
          now,
        );
        const blocked = await createRun(
          first,
          { ...queue, concurrencyKey: `job:held-${round}`, runAt: now },
          now,
        );
        const claimAt = later(now, SECOND);
        const [finished, ...claims] = await raceAll<[(Run | null)[], ...ClaimResult[]]>(round, [
          () => pick(stores, round).finishRuns([finishInput(freed, 'holder', claimAt, 'succeeded')]),
          ...Array.from(
            { length: 6 },
            (_, index) => () =>
              pick(stores, index + round).claimRuns({
                workerId: `claimer-${index}`,
                now: claimAt,
                limit: 5,
                leaseMs: LEASE_MS,
              }),
          ),
        ]);
        expect(finished[0]?.status).toBe('succeeded');
        const claimedBy = new Map<string, string>();
        claims.forEach((claim, index) => {
          expect(claim.skipped).toEqual([]);
          for (const run of claim.claimed) {
            expect(claimedBy.has(run.id), `run ${run.id} claimed twice`).toBe(false);
            claimedBy.set(run.id, `claimer-${index}`);
          }
        });
        expect(
          [...claimedBy.keys()].filter((id) => id !== waiting.id),
          'only the freed key is claimable',
        ).toEqual([]);
        const stored = await first.getRun(waiting.id);
        const claimer = claimedBy.get(waiting.id);
        if (claimer)
          expect(stored).toMatchObject({ status: 'running', workerId: claimer, startedAt: claimAt });
        else {
          // Not claimed in the race: it must not be stranded behind a key that is free.
          expect(stored?.status).toBe('pending');
          const late = await first.claimRuns({
            workerId: 'late',
            now: later(claimAt, 1),
            limit: 5,
            leaseMs: LEASE_MS,
          });
          expect(late.claimed.map((run) => run.id)).toEqual([waiting.id]);
        }
        expect((await first.getRun(blocked.id))?.status).toBe('pending');
        // The held key frees in turn: its waiting run is claimable then, and only then.
        await finish(first, (await first.getRun(waiting.id)) as Run, 'succeeded', later(claimAt, 2));
        await finish(first, held, 'succeeded', later(claimAt, 3));
        const next = await first.claimRuns({
          workerId: 'next',
          now: later(claimAt, 4),
          limit: 5,
          leaseMs: LEASE_MS,
        });
        expect(next.claimed.map((run) => run.id)).toEqual([blocked.id]);
        await finish(first, next.claimed[0] as Run, 'succeeded', later(claimAt, 5));
      }
    });

    it('a renewal racing recoveries: either the renewal holds and nothing is recovered, or one recovery wins and the renewal is refused', async () => {
      const stores = await fixture().instances(RACE_INSTANCES);
      const first = stores[0] as Store;
      for (let round = 0; round < RACE_ROUNDS; round++) {
        const now = roundStart(round);
        const leaseMs = 10 * SECOND;
        const run = await startRun(first, { maxAttempts: 2 }, { now, workerId: 'worker', leaseMs });
        const lapsed = later(now, leaseMs + 1);
        const retry = newRun({
          trigger: 'retry',
          attempt: 2,
          maxAttempts: 2,
          parentRunId: run.id,
          dedupeKey: `retry:${run.id}`,
          runAt: NEVER_DUE,
        });
        const [renewed, ...recoveries] = await raceAll<[{ ok: boolean }, ...(Run | null)[][]]>(round, [
          () => pick(stores, round).renewLease({ runId: run.id, workerId: 'worker', now: lapsed, leaseMs }),
          ...Array.from(
            { length: 5 },
            (_, index) => () =>
              pick(stores, round + index + 1).finishRuns([
                {
                  runId: run.id,
                  fence: 'expired',
                  now: lapsed,
                  status: 'failed',
                  result: null,
                  error: { code: 'stale', message: `recovered by ${index}` },
                  followUp: retry,
                },
              ]),
          ),
        ]);
        const winners = recoveries.map((result) => result[0] ?? null).filter((result) => result !== null);
        const stored = await first.getRun(run.id);
        const retries = (await allRuns(first)).filter((candidate) => candidate.parentRunId === run.id);
        if (renewed.ok) {
          expect(winners).toEqual([]);
          expect(stored).toMatchObject({ status: 'running', leaseUntil: later(lapsed, leaseMs) });
          expect(retries).toEqual([]);
          await finish(first, stored as Run, 'succeeded', later(lapsed, 1));
        } else {
          expect(winners).toHaveLength(1);
          expect(stored).toEqual(winners[0]);
          expect(stored).toMatchObject({ status: 'failed', error: { code: 'stale' } });
          expect(retries).toHaveLength(1);
        }
      }
    });

    it('finishes by the lease holder and by other workers race: exactly one holder finish wins, the job counts the run once', async () => {
      const stores = await fixture().instances(RACE_INSTANCES);
      const first = stores[0] as Store;
      const job = await first.insertJob(newJob({ overlap: 'allow', nextRunAt: null }));
      let failures = 0;
      for (let round = 0; round < RACE_ROUNDS; round++) {
        const now = roundStart(round);
        const run = await startRun(first, { ...ofJob(job), maxAttempts: 2 }, { now, workerId: 'owner' });
        const finishAt = later(now, 2 * SECOND);
        const retry = newRun({
          trigger: 'retry',
          attempt: 2,
          parentRunId: run.id,
          dedupeKey: `retry:${run.id}`,
          runAt: NEVER_DUE,
        });
        const inputs: FinishRunInput[] = [
          finishInput(run, 'owner', finishAt, 'succeeded'),
          { ...finishInput(run, 'owner', finishAt, 'failed'), followUp: retry },
          finishInput(run, 'owner', finishAt, 'cancelled'),
          finishInput(run, 'intruder-1', finishAt, 'succeeded'),
          finishInput(run, 'intruder-2', finishAt, 'failed'),
          { ...finishInput(run, 'owner', finishAt, 'failed'), fence: 'expired' },
        ];
        const results = await raceAll<(Run | null)[][]>(
          round,
          inputs.map((input, index) => () => pick(stores, round + index).finishRuns([input])),
        );
        const winners = results.flatMap((result, index) => (result[0] ? [{ index, run: result[0] }] : []));
        expect(
          winners.map(({ index }) => index).filter((index) => index > 2),
          'only the holder finishes',
        ).toEqual([]);
        expect(winners).toHaveLength(1);
        const [winner] = winners as [{ index: number; run: Run }];
        expect(winner.run.status).toBe(inputs[winner.index]?.status);
        expect(await first.getRun(run.id)).toEqual(winner.run);
        const retries = (await allRuns(first)).filter((candidate) => candidate.parentRunId === run.id);
        expect(retries).toHaveLength(winner.index === 1 ? 1 : 0);
        if (winner.run.status === 'failed') failures++;
      }
      expect(await first.getJob(job.id)).toMatchObject({ runCount: RACE_ROUNDS, errorCount: failures });
    });

    it('overlapping finishRuns batches race: each run is finished by exactly one input, answered in input order', async () => {
      const stores = await fixture().instances(RACE_INSTANCES);
      const first = stores[0] as Store;
      const job = await first.insertJob(newJob({ overlap: 'allow', nextRunAt: null }));
      let failures = 0;
      for (let round = 0; round < RACE_ROUNDS; round++) {
        const now = roundStart(round);
        const runs = await startBatch(first, job, 6, now, 'owner');
        const finishAt = later(now, SECOND);
        const batch = (picks: number[], workerId: string, status: FinishRunInput['status']) =>
          picks.map((index) => finishInput(runs[index] as Run, workerId, finishAt, status));
        const batches = [
          batch([0, 1, 2, 3], 'owner', 'succeeded'),
          batch([2, 3, 4, 5], 'owner', 'failed'),
          batch([5, 0, 4], 'owner', 'cancelled'),
          batch([1, 4], 'intruder', 'succeeded'),
        ];
        const results = await raceAll<(Run | null)[][]>(
          round,
          batches.map((inputs, index) => () => pick(stores, round + index).finishRuns(inputs)),
        );
        const winnerOf = new Map<string, Run>();
        results.forEach((answers, caller) => {
          expect(answers).toHaveLength(batches[caller]?.length ?? -1);
          answers.forEach((answer, position) => {
            if (!answer) return;
            expect(caller, 'an intruder finished a run').not.toBe(3);
            // Answered in input order: the answer at each position is the run of that input.
            expect(answer.id).toBe(batches[caller]?.[position]?.runId);
            expect(answer.status).toBe(batches[caller]?.[position]?.status);
            expect(winnerOf.has(answer.id), `run ${answer.id} finished twice`).toBe(false);
            winnerOf.set(answer.id, answer);
          });
        });
        expect(winnerOf.size).toBe(runs.length);
        for (const run of runs) expect(await first.getRun(run.id)).toEqual(winnerOf.get(run.id));
        failures += [...winnerOf.values()].filter((run) => run.status === 'failed').length;
      }
      expect(await first.getJob(job.id)).toMatchObject({ runCount: 6 * RACE_ROUNDS, errorCount: failures });
    });

    it('the stale sweep (failStaleRuns) racing finishes: each run ends once, by the sweep or by its worker', async () => {
      const stores = await fixture().instances(RACE_INSTANCES);
      const first = stores[0] as Store;
      const job: Job = await first.insertJob(newJob({ overlap: 'allow', nextRunAt: null }));
      for (let round = 0; round < RACE_ROUNDS; round++) {
        const now = roundStart(round);
        const runs = await startBatch(first, job, 4, now, 'owner');
        const sweepAt = later(now, 3 * DAY_MS);
        const error = { code: 'stale', message: 'running for more than 3 days' };
        const [sweepA, sweepB, ...finishes] = await raceAll<[Run[], Run[], ...(Run | null)[][]]>(round, [
          () => pick(stores, round).failStaleRuns({ startedBefore: later(now, 10), now: sweepAt, error }),
          () => pick(stores, round + 1).failStaleRuns({ startedBefore: later(now, 10), now: sweepAt, error }),
          ...runs.map(
            (run, index) => () =>
              pick(stores, round + index + 2).finishRuns([
                finishInput(run, `worker-${index}`, sweepAt, 'succeeded'),
              ]),
          ),
        ]);
        const endedBy = new Map<string, Run>();
        for (const run of [...sweepA, ...sweepB, ...finishes.map((result) => result[0] ?? null)]) {
          if (!run) continue;
          expect(endedBy.has(run.id), `run ${run.id} ended twice`).toBe(false);
          endedBy.set(run.id, run);
        }
        expect([...endedBy.keys()].sort()).toEqual(runs.map((run) => run.id).sort());
        for (const run of runs) expect(await first.getRun(run.id)).toEqual(endedBy.get(run.id));
      }
      expect((await first.getJob(job.id))?.runCount).toBe(4 * RACE_ROUNDS);
    });
  });
}

const DAY_MS = 24 * 60 * MINUTE;
