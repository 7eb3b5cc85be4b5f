import { postgresStore } from '@cronkeeper/adapter-postgres';
import {
  createScheduler,
  manualClock,
  type Scheduler,
  type SchedulerOptions,
  ValidationError,
} from '@cronkeeper/core';
import { newJob } from '@cronkeeper/core/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, newPool, pgAvailable, uniqueSchema } from './postgres.js';

// Values PostgreSQL cannot hold (U+0000, unpaired surrogates, dates past its text form) must be
// the caller's 400, never the store's 503; an executor's result with them fails the run clearly.
const schema = uniqueSchema('unstorable');
let pool: pg.Pool;
const store = () => postgresStore({ pool, schema, notify: false });

async function refusal(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  return null;
}

describe.skipIf(!pgAvailable)('postgres: unstorable values are bad input, not store failures', () => {
  beforeAll(async () => {
    pool = newPool();
    await store().init();
  });
  afterAll(async () => {
    if (!pool) return;
    await dropSchema(pool, schema);
    await pool.end();
  });

  const scheduler = (executors: SchedulerOptions['executors'] = {}): Scheduler =>
    createScheduler({
      store: store(),
      clock: manualClock('2026-03-01T00:00:00Z'),
      executors: { echo: { run: () => 'ok' }, ...executors },
      logger: false,
      maintenanceJobs: false,
    });

  it('refuses NUL, unpaired surrogates and out-of-range dates in job fields, params and filters, naming the field', async () => {
    const s = scheduler();
    const base = { name: 'ok-job', schedule: 'daily', executor: 'echo' };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ name: 'a\u0000b' }, 'name'],
      [{ name: 'lone\uD800' }, 'name'],
      [{ description: 'x\u0000' }, 'description'],
      [{ params: { note: 'x\u0000y' } }, 'params.note'],
      [{ params: { nested: ['\uDC00'] } }, 'params.nested.0'],
      [{ params: { 'k\u0000': 1 } }, 'params'],
      [{ tenantId: 't\u0000' }, 'tenantId'],
      [{ activeUntil: '+010000-01-01T00:00:00Z' }, 'activeUntil'],
      [{ activeFrom: '0001-01-01T00:00:00Z' }, 'activeFrom'],
      [{ metadata: { m: '\u0000' } }, 'metadata.m'],
    ];
    for (const [extra, path] of cases) {
      const error = await refusal(() => s.jobs.create({ ...base, ...extra } as never));
      expect(error, path).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).path.startsWith(path), `${path}: ${(error as Error).message}`).toBe(
        true,
      );
    }
    await s.jobs.create(base);
    const farOff = await refusal(() => s.schedule({ job: 'ok-job', at: '+010000-01-01T00:00:00Z' }));
    expect((farOff as ValidationError).path).toBe('at');
    const filter = await refusal(() => s.runs.list({ job: 'x\u0000' }));
    expect((filter as ValidationError).path).toBe('job');
    const since = await refusal(() => s.runs.list({ since: '+275000-01-01T00:00:00Z' }));
    expect((since as ValidationError).path).toBe('since');
    expect(await s.jobs.list()).toHaveLength(1);
  });

  it('refuses a pause note with NUL or an unpaired surrogate as a ValidationError on note, the job left as it was', async () => {
    const s = scheduler();
    await s.jobs.create({ name: 'pause-note', schedule: 'daily', executor: 'echo' });
    const before = await s.jobs.get('pause-note');
    for (const note of ['a\u0000b', 'a\uD800b']) {
      const error = await refusal(() => s.jobs.pause('pause-note', note));
      expect(error, JSON.stringify(note)).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).path).toBe('note');
    }
    expect(await s.jobs.get('pause-note')).toEqual(before);
    expect((await s.audit.list({ job: 'pause-note' })).items.map((entry) => entry.action)).toEqual([
      'created',
    ]);
  });

  it('keeps a run whose progress note holds NUL going, with the note recorded readably', async () => {
    const s = scheduler({
      noting: {
        run: async (ctx: { progress(percent: number, note?: string): void; heartbeat(): Promise<void> }) => {
          ctx.progress(50, 'half\u0000way');
          await ctx.heartbeat();
        },
      },
    });
    const run = await s.trigger({ executor: 'noting' });
    await s.runDue();
    const done = await s.runs.get(run.id);
    expect(done.status).toBe('succeeded');
    expect(done.progress).toEqual({ percent: 50, note: 'half\uFFFDway' });
  });

  it('answers a data exception from PostgreSQL as a ValidationError, as a last line behind core', async () => {
    const error = await refusal(() => store().insertJob(newJob({ name: 'bad\u0000name' })));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(/SQLSTATE 22/);
  });

  it('fails a run whose result holds NUL with a clear error, and records an error message or log line with NUL readably', async () => {
    const s = scheduler({
      nul: { run: () => ({ text: 'a\u0000b' }) },
      throws: {
        run: (ctx: { log: { info(message: string): void } }) => {
          ctx.log.info('line\u0000with nul');
          throw new Error('bad\u0000byte');
        },
      },
    });
    await s.jobs.create({ name: 'nul-result', schedule: 'daily', executor: 'nul' });
    await s.jobs.create({ name: 'nul-error', schedule: 'daily', executor: 'throws' });
    await s.trigger({ job: 'nul-result' });
    await s.trigger({ job: 'nul-error' });
    const summary = await s.runDue();
    expect(summary.summary).toMatchObject({ total: 2, failed: 2 });
    const [result] = (await s.runs.list({ job: 'nul-result' })).items;
    expect(result?.status).toBe('failed');
    expect(result?.error?.code).toBe('invalid_result');
    expect(result?.error?.message).toMatch(/U\+0000/);
    const [thrown] = (await s.runs.list({ job: 'nul-error' })).items;
    expect(thrown?.status).toBe('failed');
    expect(thrown?.error?.message).toBe('bad\uFFFDbyte');
    const full = await s.runs.get(thrown?.id as string);
    expect(full.logs.map((line) => line.message)).toContain('line\uFFFDwith nul');
  });

  it('fails a result whose toJSON throws NUL text with a readable message, and never holds back the runs finished with it', async () => {
    const s = scheduler({
      hostile: {
        run: () => ({
          x: {
            toJSON() {
              throw new Error('bad\u0000nul \ud800');
            },
          },
        }),
      },
    });
    const hostile = await s.trigger({ executor: 'hostile' });
    const good = await Promise.all([1, 2, 3].map(() => s.trigger({ executor: 'echo', force: true })));
    await s.runDue();
    const failed = await s.runs.get(hostile.id);
    expect(failed.status).toBe('failed');
    expect(failed.error?.code).toBe('invalid_result');
    expect(failed.error?.message).toContain('bad\uFFFDnul \uFFFD');
    for (const run of good) expect((await s.runs.get(run.id)).status).toBe('succeeded');
  });
});
