import { mongoStore } from '@cronkeeper/adapter-mongo';
import type { FireSlotInput, Job, Store } from '@cronkeeper/core';
import { at, MINUTE, newJob, newRunOf, SECOND, T0 } from '@cronkeeper/core/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { REPAIR_AFTER_MS } from '../src/settlement.js';
import { type FakeCollection, fakeDatabase } from './fake-mongo.js';

// The store's steps that touch two documents, without a transaction, each cut by a failure (a
// dropped connection, a process that dies) or stretched by a caller held up between two writes,
// on in-memory collections with MongoDB's semantics (fake-mongo.ts). Each test replays a window
// that let a run execute when it must not, or count twice, and checks it no longer does.

const LEASE = 30 * SECOND;

let jobs: FakeCollection;
let runs: FakeCollection;
let store: Store;
let other: Store;

beforeEach(() => {
  const database = fakeDatabase();
  jobs = database.jobs;
  runs = database.runs;
  // Two instances on one database.
  store = mongoStore({ db: database.db });
  other = mongoStore({ db: database.db });
});

function slot(job: Job, instant: Date, now = instant): FireSlotInput {
  return {
    jobId: job.id,
    expectedNextRunAt: instant,
    nextRunAt: new Date(instant.getTime() + MINUTE),
    runs: [
      newRunOf(job, {
        trigger: 'schedule',
        scheduledFor: instant,
        runAt: instant,
        dedupeKey: `slot:${job.id}:${instant.getTime()}`,
      }),
    ],
    now,
  };
}

/** Claim, then finish as succeeded, every due run: what workers do. Returns the ids executed. */
async function work(on: Store, now: Date): Promise<string[]> {
  const { claimed } = await on.claimRuns({ workerId: 'worker', now, limit: 100, leaseMs: LEASE });
  for (const run of claimed)
    await on.finishRuns([
      { runId: run.id, fence: { workerId: 'worker' }, now, status: 'succeeded', result: null, error: null },
    ]);
  return claimed.map((run) => run.id);
}

describe('deleteJob cut between deleting the job and cancelling its pending runs', () => {
  it('leaves a pending run that is never executed: its claim cancels it (job_deleted)', async () => {
    const job = await store.insertJob(newJob({ name: 'nightly', nextRunAt: at(MINUTE) }));
    const { run } = await store.createRun({
      run: newRunOf(job, { runAt: T0 }),
      now: T0,
      rejectIfActive: false,
    });
    runs.failNext('updateMany');
    await expect(store.deleteJob({ id: job.id, now: T0 })).rejects.toThrow(/connection lost/);
    // The window: the job is gone, its run is still pending.
    expect(await store.getJob(job.id)).toBeNull();
    expect((await store.getRun(run.id))?.status).toBe('pending');

    expect(await work(other, at(SECOND))).toEqual([]);
    expect(await store.getRun(run.id)).toMatchObject({
      status: 'cancelled',
      error: { code: 'job_deleted', message: 'job "nightly" was deleted' },
      leaseUntil: null,
    });
    expect((await store.listRuns({ limit: 10, statuses: ['pending', 'running'] })).items).toEqual([]);
  });

  it('also stops runs created for the job while it was being deleted, and claims the others as usual', async () => {
    const doomed = await store.insertJob(newJob({ name: 'doomed', nextRunAt: at(MINUTE) }));
    const kept = await store.insertJob(newJob({ name: 'kept', nextRunAt: at(MINUTE) }));
    await store.deleteJob({ id: doomed.id, now: T0 });
    // A trigger that found the job just before the delete creates its run just after it.
    await other.createRun({ run: newRunOf(doomed, { runAt: T0 }), now: T0, rejectIfActive: false });
    const late = (await store.listRuns({ limit: 10, jobId: doomed.id })).items;
    expect(late.map((run) => run.status)).toEqual(['pending']);
    const keptRun = await store.createRun({
      run: newRunOf(kept, { runAt: T0 }),
      now: T0,
      rejectIfActive: false,
    });
    const jobless = await store.createRun({
      run: newRunOf(kept, { jobId: null, jobName: null, concurrencyKey: 'executor:x', runAt: T0 }),
      now: T0,
      rejectIfActive: false,
    });
    expect((await work(other, at(SECOND))).sort()).toEqual([keptRun.run.id, jobless.run.id].sort());
    for (const run of late) expect((await store.getRun(run.id))?.status).toBe('cancelled');
  });
});

describe('the count of a finished run on its job (runCount, errorCount)', () => {
  async function finishOne(job: Job, now: Date): Promise<string> {
    const { run } = await store.createRun({ run: newRunOf(job, { runAt: now }), now, rejectIfActive: false });
    await store.claimRuns({ workerId: 'worker', now, limit: 1, leaseMs: LEASE });
    await store.finishRuns([
      {
        runId: run.id,
        fence: { workerId: 'worker' },
        now,
        status: 'failed',
        result: null,
        error: { code: 'x', message: 'boom' },
      },
    ]);
    return run.id;
  }

  it('counts a run once when its process died after counting it and 60 runs of the job finished before the repair', async () => {
    const job = await store.insertJob(newJob({ overlap: 'allow' }));
    // Counted on the job, then the process died before removing the run's settlement.
    runs.failNext('updateOne');
    await expect(finishOne(job, T0)).rejects.toThrow(/connection lost/);
    expect((await store.getJob(job.id))?.runCount).toBe(1);
    for (let index = 1; index <= 60; index++) await finishOne(job, at(index * SECOND));
    expect((await store.getJob(job.id))?.runCount).toBe(61);

    // Any instance's recovery pass finishes the interrupted settlement.
    await other.findExpiredLeases({ now: at(61 * SECOND + REPAIR_AFTER_MS + 1), limit: 10 });
    const repaired = await store.getJob(job.id);
    expect(repaired).toMatchObject({ runCount: 61, errorCount: 61 });
    // Nothing is left behind: no settlement, and no id kept on the job.
    expect(runs.docs.filter((doc) => doc.settlement !== undefined)).toEqual([]);
    expect(jobs.docs.find((doc) => doc._id === job.id)?.countedRunIds).toEqual([]);
  });

  it('counts a run its process finished but never counted, once, at the repair', async () => {
    const job = await store.insertJob(newJob({ overlap: 'allow' }));
    // The bookkeeping write (one update pipeline, read back for the audit outbox) fails.
    jobs.failNext('findOneAndUpdate');
    await expect(finishOne(job, T0)).rejects.toThrow(/connection lost/);
    expect((await store.getJob(job.id))?.runCount).toBe(0);
    // Too young to repair: its own process may still be finishing it.
    await other.findExpiredLeases({ now: at(SECOND), limit: 10 });
    expect((await store.getJob(job.id))?.runCount).toBe(0);
    await other.findExpiredLeases({ now: at(REPAIR_AFTER_MS + 1), limit: 10 });
    await store.findExpiredLeases({ now: at(REPAIR_AFTER_MS + 2), limit: 10 });
    expect((await store.getJob(job.id))?.runCount).toBe(1);
  });
});

describe('fireSlots against a caller held up between its check and its write', () => {
  it('a caller delayed until after its slot fired, ran and was pruned creates nothing: the slot runs once', async () => {
    const job = await store.insertJob(newJob({ nextRunAt: T0 }));
    const executed: string[] = [];
    // The first caller passes its check (the job is at T0), then stalls before its insert while
    // the other instance fires the slot, runs it, and prunes it: its dedupe key is free again.
    runs.beforeNext(['insertOne', 'insertMany'], async () => {
      const [fired] = await other.fireSlots([slot(job, T0)]);
      expect(fired).toMatchObject({ advanced: true, created: [{ scheduledFor: T0 }] });
      executed.push(...(await work(other, at(SECOND))));
      expect(await other.pruneRuns({ finishedBefore: at(MINUTE) })).toBe(1);
    });
    const [late] = await store.fireSlots([slot(job, T0)]);
    expect(late).toEqual({ advanced: false, created: [] });
    executed.push(...(await work(store, at(2 * SECOND))));
    expect(executed).toHaveLength(1);
    expect((await store.listRuns({ limit: 10 })).items).toEqual([]);
    // Its staged copy is gone too.
    expect(runs.docs).toEqual([]);
  });

  it('a winner that died between its compare-and-set and releasing its runs: the repair releases them, the slot runs once', async () => {
    const job = await store.insertJob(newJob({ nextRunAt: T0 }));
    runs.failNext('findOneAndUpdate');
    await expect(store.fireSlots([slot(job, T0)])).rejects.toThrow(/connection lost/);
    expect((await store.getJob(job.id))?.nextRunAt).toEqual(at(MINUTE));
    // Staged: not listed, not claimable.
    expect((await store.listRuns({ limit: 10 })).items).toEqual([]);
    expect(await work(other, at(SECOND))).toEqual([]);
    // The next firing waits for it, rather than skipping ahead of a slot not yet released.
    expect(await other.fireSlots([slot(job, at(MINUTE))])).toEqual([{ advanced: false, created: [] }]);

    await other.findExpiredLeases({ now: at(2 * SECOND), limit: 10 });
    const listed = (await store.listRuns({ limit: 10 })).items;
    expect(listed.map((run) => [run.status, run.scheduledFor])).toEqual([['pending', T0]]);
    expect(await work(other, at(3 * SECOND))).toEqual([listed[0]?.id]);
    expect(jobs.docs[0]?.firing).toBeUndefined();
    expect((await other.fireSlots([slot(job, at(MINUTE))]))[0]?.advanced).toBe(true);
  });

  it('a caller that died after staging its runs, before its compare-and-set: another fires the slot once, and the repair deletes the leftovers', async () => {
    const job = await store.insertJob(newJob({ nextRunAt: T0 }));
    jobs.failNext('updateOne');
    await expect(store.fireSlots([slot(job, T0)])).rejects.toThrow(/connection lost/);
    // Still at its slot: the repair leaves the staged run to a caller that may yet win.
    await other.findExpiredLeases({ now: at(SECOND), limit: 10 });
    expect(runs.docs.filter((doc) => doc.status === 'staged')).toHaveLength(1);

    const [fired] = await other.fireSlots([slot(job, T0)]);
    expect(fired?.created).toHaveLength(1);
    await other.findExpiredLeases({ now: at(2 * SECOND), limit: 10 });
    expect(runs.docs.filter((doc) => doc.status === 'staged')).toEqual([]);
    expect(await work(store, at(3 * SECOND))).toEqual([fired?.created[0]?.id]);
  });
});

describe('fireSlots when the job is deleted while its slot fires', () => {
  it('leaves no run of the deleted job to execute, whichever step the delete lands between', async () => {
    const job = await store.insertJob(newJob({ nextRunAt: T0 }));
    // The firing read the job as due; the delete runs after its check, before its runs are written.
    runs.beforeNext(['insertOne', 'insertMany'], async () => {
      await other.deleteJob({ id: job.id, now: T0 });
    });
    const [fired] = await store.fireSlots([slot(job, T0)]);
    expect(fired?.advanced).toBe(false);
    expect(await work(other, at(SECOND))).toEqual([]);
    expect(await work(store, at(2 * SECOND))).toEqual([]);
    expect((await store.listRuns({ limit: 10, statuses: ['pending', 'running'] })).items).toEqual([]);
  });
});
