import { describe, expect, it, vi } from 'vitest';

// A host app that never installed the optional peer: loading it fails, and the scheduler runs on.
vi.mock('@opentelemetry/api', () => {
  throw new Error("Cannot find package '@opentelemetry/api'");
});

describe('without @opentelemetry/api installed', () => {
  it('runs jobs and renders Prometheus text', async () => {
    const { memoryStore } = await import('@cronkeeper/adapter-memory');
    const { createScheduler, defineExecutor, manualClock } = await import('@cronkeeper/core');
    const clock = manualClock('2026-03-01T00:00:00Z');
    const scheduler = createScheduler({
      store: memoryStore(),
      clock,
      logger: false,
      maintenanceJobs: false,
      executors: { ok: defineExecutor({ run: async () => 'done' }) },
    });
    await scheduler.jobs.create({ name: 'report', schedule: '* * * * *', executor: 'ok' });
    clock.advance('1m');
    const result = await scheduler.runDue();
    expect(result.summary).toMatchObject({ executed: 1, failed: 0 });
    expect(await scheduler.prometheusMetrics()).toContain('outcome="succeeded"} 1');
    await expect(import('@opentelemetry/api')).rejects.toThrow();
  });
});
