import { memoryStore } from '@cronkeeper/adapter-memory';
import {
  ConflictError,
  CronkeeperError,
  createScheduler,
  NotFoundError,
  RateLimitError,
  type SchedulerOptions,
  StoreError,
  ValidationError,
} from '@cronkeeper/core';
import { describe, expect, it } from 'vitest';

function refusal(options: unknown): ValidationError {
  try {
    createScheduler(options as SchedulerOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('createScheduler accepted the options');
}

describe('createScheduler options', () => {
  it('refuses a misspelled option, naming it and the known ones, instead of keeping the default', () => {
    const error = refusal({ store: memoryStore(), pollIntervall: '1s', logger: false });
    expect(error.path).toBe('pollIntervall');
    expect(error.message).toContain('is not an option of createScheduler');
    expect(error.message).toContain('pollInterval');
  });

  it('names every unknown option at once', () => {
    const error = refusal({ store: memoryStore(), concurency: 5, timeZone: 'UTC', logger: false });
    expect(error.issues.map((issue) => issue.path)).toEqual(['concurency', 'timeZone']);
  });

  it('quotes the time zone it could not find', () => {
    const error = refusal({ store: memoryStore(), timezone: 'Europe/Pariss', logger: false });
    expect(error.path).toBe('timezone');
    expect(error.message).toContain('"Europe/Pariss" is not an IANA time zone');
  });

  it('refuses executors given as an array, which would register them under "0", "1"…', () => {
    const error = refusal({
      store: memoryStore(),
      logger: false,
      executors: [{ name: 'sendReport', run: async () => {} }],
    });
    expect(error.path).toBe('executors');
    expect(error.message).toContain('must be an object mapping executor names to executors');
  });

  it('refuses executors given as a Map, whose entries would register nothing', () => {
    const error = refusal({
      store: memoryStore(),
      logger: false,
      executors: new Map([['sendReport', { run: async () => {} }]]),
    });
    expect(error.path).toBe('executors');
    expect(error.message).toContain('must be an object mapping executor names to executors');
  });

  it('names the executor whose definition is wrong', () => {
    const error = refusal({ store: memoryStore(), logger: false, executors: { sendReport: { retry: 3 } } });
    expect(error.path).toBe('executors.sendReport.run');
    expect(error.message).toContain('executors.sendReport.run: must be a function');
    const timeout = refusal({
      store: memoryStore(),
      logger: false,
      executors: { sendReport: { run: async () => {}, timeout: '5 parsecs' } },
    });
    expect(timeout.path).toBe('executors.sendReport.timeout');
  });

  it('accepts every documented option', async () => {
    const scheduler = createScheduler({
      store: memoryStore(),
      executors: {},
      timezone: 'UTC',
      concurrency: 4,
      pollInterval: '2s',
      lease: '30s',
      retention: '7d',
      staleAfter: '1d',
      logger: false,
      random: Math.random,
      instanceId: 'a',
      jobs: [],
      maintenanceJobs: false,
      maxLogLines: 10,
      oneOffLimits: { perJob: 5 },
      tenantLimits: { maxJobs: 50 },
      telemetry: false,
    });
    await scheduler.stop();
  });
});

describe('error names', () => {
  it('are the documented class names, so logs and `name` checks can rely on them', () => {
    const errors: [CronkeeperError, string][] = [
      [new ValidationError('bad'), 'ValidationError'],
      [new NotFoundError('job', 'x'), 'NotFoundError'],
      [new ConflictError('taken'), 'ConflictError'],
      [new RateLimitError('slow down', 1), 'RateLimitError'],
      [new StoreError('down'), 'StoreError'],
      [new CronkeeperError('STORE', 'base'), 'CronkeeperError'],
    ];
    for (const [error, name] of errors) expect(error.name).toBe(name);
    class AppError extends CronkeeperError {}
    expect(new AppError('STORE', 'mine').name).toBe('AppError');
  });
});
