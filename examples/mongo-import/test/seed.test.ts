import { memoryStore } from '@cronkeeper/adapter-memory';
import { createScheduler, manualClock } from '@cronkeeper/core';
import { describe, expect, it } from 'vitest';
import { convertCronConfigs } from '../src/convert.js';
import { executorsFromScripts } from '../src/scripts.js';

// The import's second half, on the memory store: what main.ts does after reading the collection.
describe('importing converted configs', () => {
  it('seeds jobs that run the legacy scripts in order, skipping disabled ones, and is idempotent', async () => {
    const ran: string[] = [];
    const script = (name: string) => ({ start: async () => void ran.push(name) });
    const executors = executorsFromScripts({ a: script('a'), b: script('b'), c: script('c') });
    const clock = manualClock('2026-03-29T02:59:00Z');
    const scheduler = createScheduler({ store: memoryStore(), clock, executors, logger: false });
    const { jobs } = convertCronConfigs(
      [
        {
          name: 'morning-sync-3am',
          schedule: '0 3 * * *',
          scripts: [{ name: 'a' }, { name: 'b', enabled: false }, { name: 'c' }],
        },
      ],
      { executors: Object.keys(executors) },
    );
    expect(await scheduler.jobs.seed(jobs)).toMatchObject({ created: ['morning-sync-3am'] });
    expect(await scheduler.jobs.seed(jobs)).toMatchObject({ created: [], unchanged: ['morning-sync-3am'] });
    clock.advance('1m');
    const { summary } = await scheduler.runDue();
    expect(summary).toMatchObject({ executed: 1, failed: 0 });
    expect(ran).toEqual(['a', 'c']);
  });
});
