import { memoryStore } from '@cronkeeper/adapter-memory';
import {
  createScheduler,
  defineExecutor,
  manualClock,
  type Scheduler,
  ValidationError,
} from '@cronkeeper/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

describe('a scheduler created with executors', () => {
  const make = () =>
    createScheduler({
      store: memoryStore(),
      clock: manualClock('2026-03-01T00:00:00Z'),
      logger: false,
      maintenanceJobs: false,
      executors: { ping: defineExecutor({ run: () => 'pong' }) },
    });

  it('register() returns the same scheduler, which runs the executor it added', async () => {
    const scheduler = make();
    const extended = scheduler.register(
      'double',
      defineExecutor({ params: z.object({ n: z.number() }), run: ({ params }) => params.n * 2 }),
    );
    expect(extended).toBe(scheduler);
    const run = await extended.trigger({ executor: 'double', params: { n: 21 } });
    await extended.runDue();
    expect((await extended.runs.get(run.id)).result).toBe(42);
  });

  it('still refuses at run time what the compiler was told to let through', async () => {
    const loose: Scheduler = make();
    await expect(loose.trigger({ executor: 'missing' })).rejects.toBeInstanceOf(ValidationError);
    await expect(
      loose.jobs.create({ name: 'j', schedule: '@daily', executor: 'missing' }),
    ).rejects.toBeInstanceOf(ValidationError);
  });
});
