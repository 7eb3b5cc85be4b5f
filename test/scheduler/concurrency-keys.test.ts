import { describe, expect, it } from 'vitest';
import { fakeTimeScheduler } from './helpers.js';

const executors = {
  b: { run: () => 'b' },
  c: { run: () => 'c' },
  'b:c': { run: () => 'b:c' },
  'a:b': { run: () => 'a:b' },
};

describe("an executor's concurrency key per tenant", () => {
  it('keeps tenant "a:b" with executor "c" apart from tenant "a" with executor "b:c" and global "a:b" apart from tenant ":a" with executor "b"', async () => {
    const { scheduler } = fakeTimeScheduler(undefined, executors);
    const first = await scheduler.trigger({ executor: 'c', tenantId: 'a:b' });
    // The same tenant and executor again is the same key: refused while the first is active.
    await expect(scheduler.trigger({ executor: 'c', tenantId: 'a:b', force: false })).rejects.toThrow(
      /already/,
    );
    const second = await scheduler.trigger({ executor: 'b:c', tenantId: 'a' });
    expect(second.concurrencyKey).not.toBe(first.concurrencyKey);
    const global = await scheduler.trigger({ executor: 'a:b' });
    const prefixed = await scheduler.trigger({ executor: 'b', tenantId: ':a' });
    expect(global.concurrencyKey).not.toBe(prefixed.concurrencyKey);
  });

  it('keeps the key runs already stored carry when no name holds a colon', async () => {
    const { scheduler } = fakeTimeScheduler(undefined, { echo: { run: () => 'ok' } });
    expect((await scheduler.trigger({ executor: 'echo', tenantId: 'acme' })).concurrencyKey).toBe(
      'executor:acme:echo',
    );
    expect((await scheduler.trigger({ executor: 'echo' })).concurrencyKey).toBe('executor::echo');
  });
});
