import { memoryStore } from '@cronkeeper/adapter-memory';
import { at, HOUR, MINUTE, newJob, newRun, SECOND, T0 } from '@cronkeeper/core/testing';
import { describe, expect, it } from 'vitest';
import { memoryInternals } from '../src/internals.js';

// Rule 6 of the Store contract: the work of a tick follows the due work, not the number of jobs
// or runs stored. The memory store counts every item its time-ordered lookups examine.

describe('memory store cost follows the due work', () => {
  it('findDueJobs and nextWakeAt look at the 10 due jobs, not the 100 000 future ones', async () => {
    const store = memoryStore();
    for (let index = 0; index < 100_000; index++) {
      await store.insertJob(
        newJob({ name: `future-${index}`, nextRunAt: at(HOUR + ((index * 7919) % 100_000) * SECOND) }),
      );
    }
    const due = [];
    for (let index = 0; index < 10; index++) {
      due.push(await store.insertJob(newJob({ name: `due-${index}`, nextRunAt: at(-index * MINUTE) })));
    }
    const meter = memoryInternals(store).meter;

    const before = meter.examined;
    const found = await store.findDueJobs({ now: T0, limit: 100 });
    expect(found.map((job) => job.id).sort()).toEqual(due.map((job) => job.id).sort());
    // A best-first walk of the heap: the 10 due jobs and at most a couple of their neighbours.
    expect(meter.examined - before).toBeLessThanOrEqual(12);

    const beforeWake = meter.examined;
    expect(await store.nextWakeAt({ now: T0 })).toEqual(at(HOUR));
    expect(meter.examined - beforeWake).toBeLessThanOrEqual(12);
  });

  it('claimRuns looks at the 10 due runs, not the 100 000 pending later', async () => {
    const store = memoryStore();
    for (let index = 0; index < 100_000; index++) {
      await store.createRun({
        run: newRun({ runAt: at(HOUR + index), priority: -1 }),
        now: T0,
        rejectIfActive: false,
      });
    }
    for (let index = 0; index < 10; index++) {
      await store.createRun({
        run: newRun({ runAt: at(-index * SECOND), priority: 5 }),
        now: T0,
        rejectIfActive: false,
      });
    }
    const meter = memoryInternals(store).meter;
    const before = meter.examined;
    const { claimed } = await store.claimRuns({ workerId: 'w', now: T0, limit: 100, leaseMs: MINUTE });
    expect(claimed).toHaveLength(10);
    // Each due run is examined once when it becomes due and once when it is claimed.
    expect(meter.examined - before).toBeLessThanOrEqual(20);

    const beforeExpired = meter.examined;
    expect(await store.findExpiredLeases({ now: at(MINUTE + 1), limit: 100 })).toHaveLength(10);
    expect(meter.examined - beforeExpired).toBeLessThanOrEqual(10);
  });

  it('parks a queued run behind a busy key instead of re-examining it on every claim', async () => {
    const store = memoryStore();
    await store.createRun({
      run: newRun({ concurrencyKey: 'job:busy', runAt: at(-1) }),
      now: T0,
      rejectIfActive: false,
    });
    for (let index = 0; index < 1_000; index++) {
      await store.createRun({ run: newRun({ concurrencyKey: 'job:busy' }), now: T0, rejectIfActive: false });
    }
    expect(
      (await store.claimRuns({ workerId: 'w', now: T0, limit: 10, leaseMs: MINUTE })).claimed,
    ).toHaveLength(1);
    const meter = memoryInternals(store).meter;
    const before = meter.examined;
    for (let tick = 1; tick <= 100; tick++) {
      const { claimed } = await store.claimRuns({ workerId: 'w', now: at(tick), limit: 10, leaseMs: MINUTE });
      expect(claimed).toEqual([]);
    }
    expect(meter.examined - before).toBe(0);
  });

  it('drains a backlog queued on one key at a cost per run that does not grow with the backlog', async () => {
    const store = memoryStore();
    const backlog = 10_000;
    const runs = await store.createRuns(
      Array.from({ length: backlog }, (_, index) => ({
        run: newRun({ concurrencyKey: 'executor:mail', overlap: 'queue', createdAt: at(index) }),
        now: T0,
        rejectIfActive: false,
      })),
    );
    let [running] = (await store.claimRuns({ workerId: 'w', now: T0, limit: backlog, leaseMs: MINUTE }))
      .claimed;
    const meter = memoryInternals(store).meter;
    const before = meter.examined;
    for (let index = 1; index <= 100; index++) {
      const now = at(index);
      const next = await store.finishAndClaim({
        finishes: [
          {
            runId: running?.id ?? '',
            fence: { workerId: 'w' },
            now,
            status: 'succeeded',
            result: null,
            error: null,
          },
        ],
        claim: { workerId: 'w', now, limit: 10, leaseMs: MINUTE },
      });
      expect(next.claimed.map((run) => run.id)).toEqual([runs[index]?.run.id]);
      running = next.claimed[0];
    }
    // Releasing the whole backlog on each finish examined about 10 000 runs per run.
    expect((meter.examined - before) / 100).toBeLessThan(50);
  });
});
