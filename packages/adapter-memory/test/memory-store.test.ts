import { memoryStore } from '@cronkeeper/adapter-memory';
import { type Store, ValidationError } from '@cronkeeper/core';
import { at, MINUTE, newRun, SECOND, T0 } from '@cronkeeper/core/testing';
import { describe, expect, it } from 'vitest';

async function finishedRun(store: Store, finishedAt: Date): Promise<string> {
  const { run } = await store.createRun({ run: newRun({ runAt: T0 }), now: T0, rejectIfActive: false });
  await store.claimRuns({ workerId: 'w', now: T0, limit: 1, leaseMs: MINUTE });
  const done =
    (
      await store.finishRuns([
        {
          runId: run.id,
          fence: { workerId: 'w' },
          now: finishedAt,
          status: 'succeeded',
          result: null,
          error: null,
        },
      ])
    )[0] ?? null;
  expect(done?.status).toBe('succeeded');
  return run.id;
}

describe('memoryStore options', () => {
  it('rejects a bad option with a ValidationError naming the field', () => {
    for (const [options, path] of [
      [{ maxFinishedRuns: 0 }, 'maxFinishedRuns'],
      [{ maxFinishedRuns: 2.5 }, 'maxFinishedRuns'],
      [{ maxFinishedRuns: '10' }, 'maxFinishedRuns'],
      [{ maxRuns: 10 }, 'maxRuns'],
    ] as const) {
      let caught: unknown;
      try {
        memoryStore(options as never);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ValidationError);
      expect((caught as ValidationError).path).toBe(path);
    }
  });

  it('declares subscribe and starts empty', async () => {
    const store = memoryStore();
    expect(store.capabilities).toEqual({ subscribe: true });
    expect(await store.listJobs({})).toEqual([]);
    expect(await store.nextWakeAt({ now: T0 })).toBeNull();
  });
});

describe('maxFinishedRuns', () => {
  it('drops the oldest finished runs past the cap and never a pending or running one', async () => {
    const store = memoryStore({ maxFinishedRuns: 2 });
    const oldest = await finishedRun(store, at(3 * SECOND));
    const pending = (
      await store.createRun({ run: newRun({ runAt: at(MINUTE) }), now: T0, rejectIfActive: false })
    ).run;
    const middle = await finishedRun(store, at(4 * SECOND));
    const { run: long } = await store.createRun({
      run: newRun({ runAt: T0 }),
      now: T0,
      rejectIfActive: false,
    });
    await store.claimRuns({ workerId: 'w', now: T0, limit: 1, leaseMs: MINUTE });
    const newest = await finishedRun(store, at(5 * SECOND));

    expect(await store.getRun(oldest)).toBeNull();
    expect((await store.getRun(middle))?.status).toBe('succeeded');
    expect((await store.getRun(newest))?.status).toBe('succeeded');
    expect((await store.getRun(pending.id))?.status).toBe('pending');
    expect((await store.getRun(long.id))?.status).toBe('running');

    const cancelled = await store.cancelRun({ runId: pending.id, now: at(6 * SECOND), by: null });
    expect(cancelled?.status).toBe('cancelled');
    expect(await store.getRun(middle)).toBeNull();
    expect((await store.listRuns({ limit: 10 })).items.map((run) => run.status).sort()).toEqual([
      'cancelled',
      'running',
      'succeeded',
    ]);
  });
});

describe('one memory store shared by two schedulers', () => {
  it('delivers events published through it to every subscriber, each its own copy', async () => {
    const store = memoryStore();
    const seen: unknown[][] = [[], []];
    const stops = await Promise.all(
      seen.map((list) => (store.subscribe as NonNullable<Store['subscribe']>)((event) => list.push(event))),
    );
    const event = {
      type: 'run' as const,
      origin: 'a',
      runId: 'r',
      status: 'running' as const,
      tenantId: null,
    };
    await store.publish?.([event]);
    expect(seen).toEqual([[event], [event]]);
    expect(seen[0]?.[0]).not.toBe(seen[1]?.[0]);
    for (const stop of stops) await stop();
    await store.publish?.([{ type: 'wake', origin: 'a' }]);
    expect(seen[0]).toHaveLength(1);
  });

  it('rejects publish when a listener throws, after delivering to the others', async () => {
    const store = memoryStore();
    const received: string[] = [];
    await store.subscribe?.(() => {
      throw new Error('listener bug');
    });
    await store.subscribe?.((event) => received.push(event.type));
    await expect(store.publish?.([{ type: 'wake', origin: 'a' }])).rejects.toThrow('listener');
    expect(received).toEqual(['wake']);
  });
});
