import { describe, expect, it } from 'vitest';
import type { CreateRunResult, FireSlotInput, FireSlotResult, Store } from '../store.js';
import type { Job, Run } from '../types.js';
import type { ContractFixture } from './harness.js';
import { pick, RACE_INSTANCES, RACE_ROUNDS, raceAll, roundStart } from './races.js';
import { MINUTE, newJob, newRun, newRunOf } from './records.js';
import { allRuns, idsOf } from './steps.js';

/**
 * Firing and creating runs raced (see races.ts): a pause or a delete against the instances firing
 * the job's slot, and many callers creating runs on many keys at once. Every caller's answer is
 * compared with what was stored in the end.
 */

const FIRERS = 6;

function fireInput(job: Job, slot: Date): FireSlotInput {
  return {
    jobId: job.id,
    expectedNextRunAt: slot,
    nextRunAt: new Date(slot.getTime() + MINUTE),
    runs: [
      newRunOf(job, { scheduledFor: slot, runAt: slot, dedupeKey: `slot:${job.id}:${slot.toISOString()}` }),
    ],
    now: slot,
  };
}

/** The runs the firing callers say they created, checked against each other: one slot, once. */
function createdBy(results: FireSlotResult[][]): Run[] {
  const answers = results.map((result) => {
    expect(result).toHaveLength(1);
    return result[0] as FireSlotResult;
  });
  const created = answers.flatMap((answer) => answer.created);
  // (A store without transactions may create a run and then lose the compare-and-set; see fireSlots.)
  expect(answers.filter((answer) => answer.advanced).length).toBeLessThanOrEqual(1);
  expect(created.length).toBeLessThanOrEqual(1);
  return created;
}

export function firingRacesContract(fixture: () => ContractFixture): void {
  describe(`firing races (${RACE_INSTANCES} instances, ${RACE_ROUNDS} rounds each)`, () => {
    it('a pause racing the instances firing a slot: the slot fires once or not at all, and nothing fires after the pause', async () => {
      const stores = await fixture().instances(RACE_INSTANCES);
      const first = stores[0] as Store;
      for (let round = 0; round < RACE_ROUNDS; round++) {
        const slot = roundStart(round);
        const job = await first.insertJob(newJob({ nextRunAt: slot }));
        const pause = () =>
          pick(stores, round).updateJob({
            id: job.id,
            expectedVersion: job.version,
            patch: { enabled: false, pausedNote: 'race', nextRunAt: null },
            now: slot,
          });
        const fires = Array.from(
          { length: FIRERS },
          (_, index) => () => pick(stores, round + index + 1).fireSlots([fireInput(job, slot)]),
        );
        const [paused, ...results] = await raceAll<[Job | null, ...FireSlotResult[][]]>(round, [
          pause,
          ...fires,
        ]);
        // Firing does not move the version: the pause's compare-and-set always holds.
        expect(paused).toMatchObject({ enabled: false, nextRunAt: null, version: job.version + 1 });
        const created = createdBy(results);
        const stored = await allRuns(first, { jobId: job.id });
        expect(idsOf(stored), 'the runs stored are exactly the runs a caller created').toEqual(
          idsOf(created),
        );
        expect(await first.getJob(job.id)).toEqual(paused);
        // After the pause no caller fires it, whatever it read before.
        const late = await first.fireSlots([
          fireInput(job, slot),
          fireInput(job, new Date(slot.getTime() + MINUTE)),
        ]);
        expect(late).toEqual([
          { advanced: false, created: [] },
          { advanced: false, created: [] },
        ]);
        expect(await first.findDueJobs({ now: new Date(slot.getTime() + 60 * MINUTE), limit: 100 })).toEqual(
          [],
        );
      }
    });

    it('a delete racing the instances firing a slot: no run of the deleted job is left pending', async () => {
      const stores = await fixture().instances(RACE_INSTANCES);
      const first = stores[0] as Store;
      for (let round = 0; round < RACE_ROUNDS; round++) {
        const slot = roundStart(round);
        const job = await first.insertJob(newJob({ nextRunAt: slot }));
        const remove = () => pick(stores, round).deleteJob({ id: job.id, now: slot });
        const fires = Array.from(
          { length: FIRERS },
          (_, index) => () => pick(stores, round + index + 1).fireSlots([fireInput(job, slot)]),
        );
        const [deleted, ...results] = await raceAll<[boolean, ...FireSlotResult[][]]>(round, [
          remove,
          ...fires,
        ]);
        expect(deleted).toBe(true);
        const created = createdBy(results);
        const stored = await allRuns(first, { jobId: job.id });
        expect(idsOf(stored), 'the runs stored are exactly the runs a caller created').toEqual(
          idsOf(created),
        );
        // Fired before the delete: cancelled by it. Never a pending run nobody will claim for a job.
        for (const run of stored)
          expect(run).toMatchObject({ status: 'cancelled', error: { code: 'job_deleted' } });
        expect(await first.getJob(job.id)).toBeNull();
        expect(
          (
            await first.claimRuns({
              workerId: 'w',
              now: new Date(slot.getTime() + MINUTE),
              limit: 10,
              leaseMs: MINUTE,
            })
          ).claimed,
        ).toEqual([]);
      }
    });

    it('createRun on many keys at once: one run per key (exclusive) and per dedupe key, every refusal naming it', async () => {
      const stores = await fixture().instances(RACE_INSTANCES);
      const first = stores[0] as Store;
      for (let round = 0; round < RACE_ROUNDS; round++) {
        const now = roundStart(round);
        const keys = Array.from({ length: 12 }, (_, index) => `${round}-${index}`);
        // Two callers per key: exclusive keys refuse a second active run; dedupe keys a second run.
        const calls = keys.flatMap((key, index) =>
          [0, 1].map((copy) => ({
            key,
            exclusive: index % 2 === 0,
            input: {
              run: newRun({
                runAt: now,
                createdAt: now,
                concurrencyKey: `job:${key}`,
                dedupeKey: index % 2 === 0 ? null : `once:${key}`,
                triggeredBy: `caller-${copy}`,
              }),
              now,
              rejectIfActive: index % 2 === 0,
            },
          })),
        );
        const results = await raceAll<CreateRunResult[]>(
          round,
          calls.map((call, index) => () => pick(stores, round + index).createRun(call.input)),
        );
        const stored = (await allRuns(first)).filter((run) => run.createdAt.getTime() === now.getTime());
        expect(stored).toHaveLength(keys.length);
        for (const key of keys) {
          const answers = results.filter((_, index) => calls[index]?.key === key);
          const made = answers.filter((answer) => answer.created);
          expect(made, `key ${key}`).toHaveLength(1);
          const run = (made[0] as CreateRunResult).run;
          expect(stored.find((candidate) => candidate.id === run.id)).toEqual(run);
          for (const answer of answers) {
            expect(answer.run.id).toBe(run.id);
            if (!answer.created)
              expect(answer.reason).toBe(calls[results.indexOf(answer)]?.exclusive ? 'active' : 'duplicate');
          }
        }
      }
    });
  });
}
