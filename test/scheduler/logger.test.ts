import { memoryStore } from '@cronkeeper/adapter-memory';
import { consoleLogger, createScheduler, manualClock, ValidationError } from '@cronkeeper/core';
import { describe, expect, it } from 'vitest';

describe('default logger', () => {
  it('prefixes lines [CRON], [SCHEDULED], [MANUAL] by trigger, so operators can grep them apart', async () => {
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

/** A console that records each line with the method it was written through. */
function recordingOutput() {
  const lines: string[] = [];
  const output = {
    log: (line: string) => lines.push(`log ${line}`),
    warn: (line: string) => lines.push(`warn ${line}`),
    error: (line: string) => lines.push(`error ${line}`),
  };
  return { lines, output };
}

/** A scheduler whose one job succeeds once and fails once, logging through `logger`. */
async function successThenFailure(logger: ReturnType<typeof consoleLogger>) {
  let calls = 0;
  const scheduler = createScheduler({
    store: memoryStore(),
    clock: manualClock('2026-03-01T00:00:00Z'),
    logger,
    maintenanceJobs: false,
    executors: {
      flaky: {
        run: (ctx) => {
          ctx.log.info('working');
          calls += 1;
          if (calls > 1) throw new Error('upstream down');
        },
      },
    },
  });
  await scheduler.jobs.create({ name: 'sync', schedule: 'hourly', executor: 'flaky', overlap: 'allow' });
  await scheduler.trigger({ job: 'sync' });
  await scheduler.runDue();
  await scheduler.trigger({ job: 'sync' });
  await scheduler.runDue();
}

describe('consoleLogger level', () => {
  it("keeps every line from 'info' up by default, and drops debug", async () => {
    const { lines, output } = recordingOutput();
    const logger = consoleLogger({ output });
    logger.debug('noise');
    await successThenFailure(logger);
    expect(lines.some((line) => line.startsWith('log [MANUAL] Starting sync'))).toBe(true);
    expect(lines).toContain('log [MANUAL] ✓ sync succeeded in 0 ms');
    expect(lines.some((line) => line.includes('upstream down'))).toBe(true);
    expect(lines.some((line) => line.includes('noise'))).toBe(false);
  });

  it("'warn' drops the per-run info lines and keeps the failure", async () => {
    const { lines, output } = recordingOutput();
    await successThenFailure(consoleLogger({ level: 'warn', output }));
    expect(lines.some((line) => line.startsWith('log '))).toBe(false);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((line) => line.startsWith('warn ') || line.startsWith('error '))).toBe(true);
    expect(lines.some((line) => line.includes('upstream down'))).toBe(true);
  });

  it("'debug' keeps debug lines, 'error' keeps errors only, 'silent' keeps nothing", () => {
    const write = (level: 'debug' | 'error' | 'silent') => {
      const { lines, output } = recordingOutput();
      const logger = consoleLogger({ level, output });
      logger.debug('d');
      logger.info({ trigger: 'manual' }, 'i');
      logger.warn('w');
      logger.error({ trigger: 'schedule' }, 'e');
      return lines;
    };
    expect(write('debug')).toEqual([
      'log [CRONKEEPER] d',
      'log [MANUAL] i',
      'warn [CRONKEEPER] w',
      'error [CRON] e',
    ]);
    expect(write('error')).toEqual(['error [CRON] e']);
    expect(write('silent')).toEqual([]);
  });

  it('refuses a bad option by name', () => {
    expect(() => consoleLogger({ level: 'verbose' as never })).toThrow(ValidationError);
    expect(() => consoleLogger({ level: 'verbose' as never })).toThrow(/level/);
    expect(() => consoleLogger({ output: { log: 1 } as never })).toThrow(
      /output: must have log\(\), warn\(\) and error\(\)/,
    );
    expect(() => consoleLogger({ levle: 'warn' } as never)).toThrow(/levle/);
  });
});
