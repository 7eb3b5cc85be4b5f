import { memoryStore } from '@cronkeeper/adapter-memory';
import { consoleLogger, createScheduler, manualClock } from '@cronkeeper/core';
import { describe, expect, it } from 'vitest';

describe('default logger', () => {
  it("prefixes lines [CRON], [SCHEDULED], [MANUAL] by trigger, as seed 000's operators grep for", async () => {
    const lines: string[] = [];
    const output = {
      log: (line: string) => lines.push(line),
      warn: (line: string) => lines.push(line),
      error: (line: string) => lines.push(line),
    };
    const clock = manualClock('2026-03-01T00:00:00Z');
    const scheduler = createScheduler({
      store: memoryStore(),
      clock,
      logger: consoleLogger(output),
      executors: { zendeskTicket: { run: () => {} } },
    });
    await scheduler.jobs.create({ name: 'sync', schedule: 'hourly', executor: 'zendeskTicket' });
    await scheduler.trigger({ job: 'sync' });
    await scheduler.schedule({ executor: 'zendeskTicket', at: '2026-03-01T00:30:00Z' });
    await scheduler.runDue();
    clock.advance('1h');
    await scheduler.runDue();
    expect(lines).toContain('[MANUAL] ✓ sync succeeded in 0 ms');
    expect(
      lines.some((line) => /^\[SCHEDULED\] Starting zendeskTicket \(run [\w-]+, attempt 1\)$/.test(line)),
    ).toBe(true);
    expect(lines.some((line) => line.startsWith('[CRON] Starting sync'))).toBe(true);
    expect(lines.filter((line) => line.startsWith('[SCHEDULED]'))).toHaveLength(2);
  });
});
