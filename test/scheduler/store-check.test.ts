import { memoryStore } from '@cronkeeper/adapter-memory';
import { createScheduler, type Store } from '@cronkeeper/core';
import { describe, expect, it } from 'vitest';

/** The memory store with some methods taken away, as a wrapper that forwards only some would be. */
function without(...methods: string[]): Store {
  return new Proxy(memoryStore(), {
    get: (target, key, receiver) =>
      methods.includes(String(key)) ? undefined : Reflect.get(target, key, receiver),
  });
}

describe('a store is checked when the scheduler is created', () => {
  it('names each method a wrapper lacks, admin methods included', () => {
    expect(() => createScheduler({ store: without('insertJobs', 'countActive'), logger: false })).toThrow(
      /store: must be a Store .*: insertJobs\(\), countActive\(\) missing/,
    );
    expect(() => createScheduler({ store: without('close'), logger: false })).toThrow(/close\(\) missing/);
  });

  it('accepts a store without the optional publish and subscribe', () => {
    const scheduler = createScheduler({ store: without('publish', 'subscribe'), logger: false });
    expect(scheduler.store).toBeDefined();
  });

  it('refuses what is not a store at all without listing every method', () => {
    expect(() => createScheduler({ store: {} as Store, logger: false })).toThrow(
      /^store: must be a Store \(e\.g\. memoryStore\(\) from @cronkeeper\/adapter-memory\)$/,
    );
  });
});
