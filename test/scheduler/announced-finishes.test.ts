import { memoryStore } from '@cronkeeper/adapter-memory';
import {
  createScheduler,
  type FinishRunInput,
  type Run,
  type Store,
  type StoreEvent,
} from '@cronkeeper/core';
import { describe, expect, it } from 'vitest';
import { deferred } from './helpers.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A memory store that, like the Redis store, publishes each finish given `announceAs` itself (when
 * `announcing`). `fromCore` records what the scheduler published through `publish`; `heard`,
 * everything delivered on the store's channel, from either source. `delays` make the answer to a
 * finish, or the arrival of a published running event, late.
 */
function store(announcing: boolean, delays: { finishReplyMs?: number; publishMs?: number } = {}) {
  // The memory store declares `subscribe`, so both methods are there.
  const inner = memoryStore() as Store & Required<Pick<Store, 'publish' | 'subscribe'>>;
  const fromCore: StoreEvent[] = [];
  const heard: StoreEvent[] = [];
  const announce = async (inputs: readonly FinishRunInput[], runs: readonly (Run | null)[]) => {
    const events = runs.flatMap((run, index): StoreEvent[] => {
      const origin = inputs[index]?.announceAs;
      if (!run || origin === undefined) return [];
      return [{ type: 'run', origin, runId: run.id, status: run.status, tenantId: run.tenantId }];
    });
    if (events.length > 0) await inner.publish(events);
  };
  const overrides: Partial<Store> = {
    capabilities: { subscribe: true, announcesFinishedRuns: announcing },
    // A slow network: the events reach the channel, and the finish's answer its caller, late.
    publish: async (events) => {
      fromCore.push(...events);
      if (events.some((event) => event.type === 'run' && event.status === 'running'))
        await sleep(delays.publishMs ?? 0);
      await inner.publish(events);
    },
    finishRuns: async (inputs) => {
      const runs = await inner.finishRuns(inputs);
      if (announcing) await announce(inputs, runs);
      await sleep(delays.finishReplyMs ?? 0);
      return runs;
    },
    finishAndClaim: async (input) => {
      const result = await inner.finishAndClaim(input);
      if (announcing) await announce(input.finishes, result.finished);
      await sleep(delays.finishReplyMs ?? 0);
      return result;
    },
  };
  const proxy = new Proxy(inner, {
    get(target, key) {
      if (key in overrides) return overrides[key as keyof Store];
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as Store;
  return { store: proxy, inner, fromCore, heard };
}

/** Run one manual run of `executor` on a started scheduler; the run's events seen on the channel. */
async function runOnce(
  announcing: boolean,
  work: () => Promise<void> | void,
  delays: Parameters<typeof store>[1] = {},
) {
  const { store: shared, inner, fromCore, heard } = store(announcing, delays);
  const stop = await inner.subscribe((event) => heard.push(event));
  const scheduler = createScheduler({
    store: shared,
    logger: false,
    maintenanceJobs: false,
    executors: { work: { run: work } },
  });
  const succeeded = new Promise<Run>((resolve) => scheduler.on('run:succeeded', ({ run }) => resolve(run)));
  await scheduler.start();
  const run = await scheduler.trigger({ executor: 'work' });
  expect((await succeeded).id).toBe(run.id);
  // Longer than the outbox holds a `running` event, so one left behind would have been sent.
  await sleep(150 + (delays.finishReplyMs ?? 0) + (delays.publishMs ?? 0));
  await scheduler.stop();
  await stop();
  const ofRun = (events: StoreEvent[]) =>
    events
      .filter((event) => event.type === 'run' && event.runId === run.id)
      .map((event) => event.type === 'run' && event.status);
  return {
    instanceId: scheduler.instanceId,
    run,
    fromCore: ofRun(fromCore),
    heard: ofRun(heard),
    events: heard,
  };
}

describe('finished runs announced by the store (real time)', () => {
  it('are not published again by the scheduler, and a short run sends no running event after its end', async () => {
    const outcome = await runOnce(true, () => undefined);
    // The store here does not announce created runs: the scheduler publishes the run's creation.
    expect(outcome.fromCore).toEqual(['pending']);
    expect(outcome.heard).toEqual(['pending', 'succeeded']);
    expect(outcome.events).toContainEqual({
      type: 'run',
      origin: outcome.instanceId,
      runId: outcome.run.id,
      status: 'succeeded',
      tenantId: null,
    });
  });

  it('reach other instances after the running event of a run that outlived the hold', async () => {
    const release = deferred();
    setTimeout(() => release.resolve(), 120);
    const outcome = await runOnce(true, () => release.promise);
    expect(outcome.fromCore).toEqual(['pending', 'running']);
    expect(outcome.heard).toEqual(['pending', 'running', 'succeeded']);
  });

  it('are never overtaken by a held running event while the finish is answered slowly', async () => {
    // The run ends well within the hold; its finish is announced at once but answered after the
    // hold has lapsed, when the held event would have left on its own.
    const outcome = await runOnce(true, () => sleep(10), { finishReplyMs: 80 });
    expect(outcome.fromCore).toEqual(['pending']);
    expect(outcome.heard).toEqual(['pending', 'succeeded']);
  });

  it('wait for a publish in flight carrying the run, so its running event is heard first', async () => {
    // The running event leaves at the end of the hold (50 ms) and takes 100 ms to arrive; the
    // run ends while it travels.
    const outcome = await runOnce(true, () => sleep(80), { publishMs: 100 });
    expect(outcome.fromCore).toEqual(['pending', 'running']);
    expect(outcome.heard).toEqual(['pending', 'running', 'succeeded']);
  });

  it('are published by the scheduler when the store does not announce them', async () => {
    const outcome = await runOnce(false, () => undefined);
    expect(outcome.fromCore).toEqual(['pending', 'succeeded']);
    expect(outcome.heard).toEqual(['pending', 'succeeded']);
  });
});
