import { memoryStore } from '@cronkeeper/adapter-memory';
import {
  createScheduler,
  type FireAndClaimInput,
  type FireAndClaimResult,
  manualClock,
  type Run,
  type Store,
} from '@cronkeeper/core';
import { describe, expect, it } from 'vitest';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(5);
  }
}

type Hook = (target: Store, key: string, args: unknown[], call: () => Promise<unknown>) => Promise<unknown>;

/** The store with each call passed through `hook`, which decides when (and whether) it goes on. */
function hooked(store: Store, hook: Hook): Store {
  return new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function' || typeof key !== 'string') return value;
      // Bound to the store: its methods use private fields a proxy cannot reach.
      return (...args: unknown[]) =>
        hook(target, key, args, () => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
    },
  });
}

const SLOT = new Date('2026-03-01T10:00:00Z');

/** A scheduler whose `count` jobs (every hour) come due at SLOT, started a second after it. */
async function burst(store: Store, count: number, concurrency: number | undefined) {
  const clock = manualClock(new Date(SLOT.getTime() - 60_000));
  const started: Run[] = [];
  const scheduler = createScheduler({
    store,
    clock,
    logger: false,
    maintenanceJobs: false,
    ...(concurrency === undefined ? {} : { concurrency }),
    pollInterval: '1h',
    // Walks the burst from its first job: chunks hold jobs in the order they were created.
    random: () => 0,
    // Runs hold their slots until the scheduler stops.
    executors: {
      hold: {
        run: (ctx) => new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve())),
      },
    },
  });
  scheduler.on('run:started', ({ run }) => {
    started.push(run);
  });
  for (let index = 0; index < count; index++)
    await scheduler.jobs.create({ name: `hourly-${index}`, executor: 'hold', schedule: '0 * * * *' });
  clock.set(new Date(SLOT.getTime() + 1_000));
  return { scheduler, started };
}

describe('a burst of due jobs fired with free slots (memory store, real time)', () => {
  it('starts its runs in the calls that fire them: no claim of their own, at most as many as each call fires', async () => {
    const claims: { key: string; claimed: number; limit: number }[] = [];
    const store = hooked(memoryStore(), async (_target, key, args, call) => {
      const result = await call();
      if (key === 'fireAndClaim')
        claims.push({
          key,
          claimed: (result as FireAndClaimResult).claimed.length,
          limit: (args[0] as FireAndClaimInput).claim.limit,
        });
      if (key === 'claimRuns')
        claims.push({ key, claimed: (result as { claimed: Run[] }).claimed.length, limit: 0 });
      return result;
    });
    const { scheduler, started } = await burst(store, 60, 100);
    await scheduler.start();
    try {
      await until(() => started.length === 60);
    } finally {
      await scheduler.stop({ grace: '0s' });
    }
    // Chunks of 25: each claims for the runs it fires and no more, leaving slots to the others.
    const fired = claims.filter((claim) => claim.key === 'fireAndClaim');
    expect(fired.map((claim) => claim.limit).sort()).toEqual([10, 25, 25]);
    expect(fired.map((claim) => claim.claimed).sort()).toEqual([10, 25, 25]);
    // The claims of the tick itself find nothing left: every run started with its firing.
    for (const claim of claims.filter((entry) => entry.key === 'claimRuns')) expect(claim.claimed).toBe(0);
    expect(new Set(started.map((run) => run.jobId)).size).toBe(60);
  });

  it('claims no more runs than it has free slots: the rest of the burst stays pending', async () => {
    const keys: string[] = [];
    const store = hooked(memoryStore(), async (_target, key, _args, call) => {
      keys.push(key);
      return call();
    });
    const { scheduler, started } = await burst(store, 5, 2);
    await scheduler.start();
    try {
      await until(() => started.length === 2);
      await sleep(20);
      expect(started).toHaveLength(2);
      // Claimed for its two slots, with the firing; the other three wait, pending.
      expect(keys.filter((key) => key === 'fireAndClaim')).toHaveLength(1);
      expect((await scheduler.runs.list({ status: ['pending'], limit: 10 })).items).toHaveLength(3);
    } finally {
      await scheduler.stop({ grace: '0s' });
    }
  });

  it('hands the slots of a chunk another instance fired first to the runs the other chunks fire', async () => {
    let handedBack = false;
    let firstFiring = true;
    const store = hooked(memoryStore(), async (target, key, args, call) => {
      if (key === 'fireAndClaim' && firstFiring) {
        firstFiring = false;
        // Another instance fires this chunk's jobs and claims their runs just before this call
        // (the memory store acts when called, before any other lane can).
        const input = args[0] as FireAndClaimInput;
        void target.fireSlots(input.firings);
        void target.claimRuns({ ...input.claim, workerId: 'other-instance' });
        return call();
      }
      if (key === 'claimRuns') {
        const result = (await call()) as { claimed: Run[] };
        if (result.claimed.length > 0) handedBack = true;
        return result;
      }
      // The other chunks' firings answer only once their runs were claimed: without the hand-back
      // they would wait for the end of the whole burst, which never comes.
      if (key === 'fireSlots') {
        const result = await call();
        await until(() => handedBack);
        return result;
      }
      return call();
    });
    const { scheduler, started } = await burst(store, 50, 25);
    await scheduler.start();
    try {
      await until(() => started.length === 25);
    } finally {
      await scheduler.stop({ grace: '0s' });
    }
    expect(handedBack).toBe(true);
    // This instance started the runs of the chunk it fired itself, none of the other instance's.
    expect(started.every((run) => run.workerId === scheduler.instanceId)).toBe(true);
  });
});

describe('the default concurrency', () => {
  it('runs 50 at once: an hourly burst of 60 jobs starts 50 runs and keeps 10 pending', async () => {
    const { scheduler, started } = await burst(memoryStore(), 60, undefined);
    await scheduler.start();
    try {
      await until(() => started.length === 50);
      await sleep(20);
      expect(started).toHaveLength(50);
      expect((await scheduler.runs.list({ status: ['pending'], limit: 20 })).items).toHaveLength(10);
    } finally {
      await scheduler.stop({ grace: '0s' });
    }
  });
});

describe('a burst fired with free slots, when something fails', () => {
  it('starts the runs it claimed even when a run:created listener throws', async () => {
    const { scheduler, started } = await burst(memoryStore(), 3, 10);
    let thrown = false;
    scheduler.on('run:created', () => {
      if (thrown) return;
      thrown = true;
      throw new Error('listener failed');
    });
    await scheduler.start();
    try {
      await until(() => started.length === 3);
    } finally {
      await scheduler.stop({ grace: '0s' });
    }
    expect((await scheduler.runs.list({ status: ['running'], limit: 10 })).items).toEqual([]);
  });

  it('stop() waits for a chunk still in flight after another chunk failed, and leaves none of its runs running', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let firings = 0;
    const store = hooked(memoryStore(), async (_target, key, _args, call) => {
      if (key !== 'fireAndClaim') return call();
      firings++;
      if (firings === 1) {
        await gate;
        return call();
      }
      throw new Error('the store refused this chunk');
    });
    const { scheduler, started } = await burst(store, 30, 100);
    await scheduler.start();
    await until(() => firings === 2);
    let stopped = false;
    const stopping = scheduler.stop({ grace: '0s' }).then(() => {
      stopped = true;
    });
    await sleep(30);
    expect(stopped).toBe(false);
    release();
    await stopping;
    // The chunk in flight claimed its 25 runs; stop() executed them and ended them before returning.
    expect(started).toHaveLength(25);
    expect((await scheduler.runs.list({ status: ['running'], limit: 50 })).items).toEqual([]);
  });

  it('refuses a store without fireAndClaim when the scheduler is created', () => {
    const store = memoryStore();
    const partial = new Proxy(store, {
      get: (target, key, receiver) =>
        key === 'fireAndClaim' ? undefined : Reflect.get(target, key, receiver),
    });
    expect(() => createScheduler({ store: partial, logger: false })).toThrow(
      /store: must be a Store .*: fireAndClaim\(\) missing/,
    );
  });
});
