import { memoryStore } from '@cronkeeper/adapter-memory';
import type { OverlapPolicy, Run } from '@cronkeeper/core';
import { at, newRun, SECOND } from '@cronkeeper/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// The memory store's heaps, parking of queued runs and promotion of due runs are checked against a
// plain model that sorts every pending run on each claim: same claims, same skips, same wake-ups,
// whatever the order of operations, including `now` moving backwards between calls.

type Op =
  | { kind: 'create'; priority: number; runAt: number; key: string; overlap: OverlapPolicy }
  | { kind: 'claim'; now: number; limit: number }
  | { kind: 'finish'; pick: number }
  | { kind: 'cancel'; pick: number }
  | { kind: 'wake'; now: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('create' as const),
    priority: fc.integer({ min: 0, max: 2 }),
    runAt: fc.integer({ min: -5, max: 5 }),
    key: fc.constantFrom('job:a', 'job:b', 'job:c'),
    overlap: fc.constantFrom<OverlapPolicy>('queue', 'skip', 'allow'),
  }),
  fc.record({
    kind: fc.constant('claim' as const),
    now: fc.integer({ min: -5, max: 10 }),
    limit: fc.integer({ min: 1, max: 3 }),
  }),
  fc.record({ kind: fc.constant('finish' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('wake' as const), now: fc.integer({ min: -6, max: 6 }) }),
);

interface ModelRun {
  id: string;
  priority: number;
  runAt: number;
  createdAt: number;
  key: string;
  overlap: OverlapPolicy;
  status: Run['status'];
}

function modelClaim(runs: ModelRun[], now: number, limit: number): { claimed: string[]; skipped: string[] } {
  const due = runs
    .filter((run) => run.status === 'pending' && run.runAt <= now)
    .sort((a, b) => a.priority - b.priority || a.runAt - b.runAt || a.createdAt - b.createdAt);
  const busy = new Set(
    runs.filter((run) => run.status === 'running' && run.overlap !== 'allow').map((run) => run.key),
  );
  const claimed: string[] = [];
  const skipped: string[] = [];
  for (const run of due) {
    if (claimed.length >= limit) break;
    if (run.overlap !== 'allow' && busy.has(run.key)) {
      if (run.overlap === 'skip') {
        run.status = 'skipped';
        skipped.push(run.id);
      }
      continue;
    }
    run.status = 'running';
    if (run.overlap !== 'allow') busy.add(run.key);
    claimed.push(run.id);
  }
  return { claimed, skipped };
}

describe('memory store claim path against a reference model', () => {
  it('claims, skips and wakes exactly as the model does', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 20, maxLength: 80, size: 'max' }), async (ops) => {
        const store = memoryStore();
        const model: ModelRun[] = [];
        let clock = 0;
        for (const step of ops) {
          if (step.kind === 'create') {
            clock += 1;
            const run = newRun({
              priority: step.priority,
              runAt: at(step.runAt * SECOND),
              createdAt: at(clock),
              concurrencyKey: step.key,
              overlap: step.overlap,
            });
            const { run: created } = await store.createRun({ run, now: at(0), rejectIfActive: false });
            model.push({
              id: created.id,
              priority: step.priority,
              runAt: step.runAt * SECOND,
              createdAt: clock,
              key: step.key,
              overlap: step.overlap,
              status: 'pending',
            });
          } else if (step.kind === 'claim') {
            const expected = modelClaim(model, step.now * SECOND, step.limit);
            const actual = await store.claimRuns({
              workerId: 'w',
              now: at(step.now * SECOND),
              limit: step.limit,
              leaseMs: 60 * SECOND,
            });
            expect(actual.claimed.map((run) => run.id)).toEqual(expected.claimed);
            expect(actual.skipped.map((run) => run.id)).toEqual(expected.skipped);
          } else if (step.kind === 'finish') {
            const running = model.filter((run) => run.status === 'running');
            const target = running[step.pick % Math.max(1, running.length)];
            if (!target) continue;
            target.status = 'succeeded';
            const done =
              (
                await store.finishRuns([
                  {
                    runId: target.id,
                    fence: { workerId: 'w' },
                    now: at(20 * SECOND),
                    status: 'succeeded',
                    result: null,
                    error: null,
                  },
                ])
              )[0] ?? null;
            expect(done?.status).toBe('succeeded');
          } else if (step.kind === 'cancel') {
            const pending = model.filter((run) => run.status === 'pending');
            const target = pending[step.pick % Math.max(1, pending.length)];
            if (!target) continue;
            target.status = 'cancelled';
            expect((await store.cancelRun({ runId: target.id, now: at(0), by: null }))?.status).toBe(
              'cancelled',
            );
          } else {
            const later = model
              .filter((run) => run.status === 'pending' && run.runAt > step.now * SECOND)
              .map((run) => run.runAt);
            const expected = later.length === 0 ? null : at(Math.min(...later));
            expect(await store.nextWakeAt({ now: at(step.now * SECOND) })).toEqual(expected);
          }
        }
        const active = await store.countActive({});
        expect(active.pending).toBe(model.filter((run) => run.status === 'pending').length);
        expect(active.running).toBe(model.filter((run) => run.status === 'running').length);
      }),
      { numRuns: 300 },
    );
  });
});
