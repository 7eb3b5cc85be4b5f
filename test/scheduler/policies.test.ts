import { createScheduler } from '@cronkeeper/core';
import { describe, expect, it } from 'vitest';
import { deferred, fakeTimeScheduler } from './helpers.js';

const noop = { run: () => {} };

describe('cron slots in fake time', () => {
  it('fires each slot once as time advances, with scheduledFor on the slot', async () => {
    const { scheduler, clock } = fakeTimeScheduler('2026-03-01T00:00:00Z', { a: noop });
    await scheduler.jobs.create({ name: 'j', schedule: 'every_15_minutes', executor: 'a' });
    const slots: string[] = [];
    for (let i = 0; i < 4; i++) {
      clock.advance('15m');
      const { executed } = await scheduler.runDue();
      slots.push(...executed.map((run) => run.scheduledFor?.toISOString() ?? ''));
      expect((await scheduler.runDue()).summary.total).toBe(0);
    }
    expect(slots).toEqual([
      '2026-03-01T00:15:00.000Z',
      '2026-03-01T00:30:00.000Z',
      '2026-03-01T00:45:00.000Z',
      '2026-03-01T01:00:00.000Z',
    ]);
  });

  it('runs a Paris 02:30 job once on the spring-forward day, at 03:00 local', async () => {
    const { scheduler, clock } = fakeTimeScheduler('2026-03-28T12:00:00Z', { a: noop });
    await scheduler.jobs.create({
      name: 'night',
      schedule: '30 2 * * *',
      timezone: 'Europe/Paris',
      executor: 'a',
    });
    const fired: string[] = [];
    for (let hour = 0; hour < 48; hour++) {
      clock.advance('1h');
      fired.push(...(await scheduler.runDue()).executed.map((run) => run.scheduledFor?.toISOString() ?? ''));
    }
    expect(fired).toEqual(['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']);
  });

  it('runs a Paris 02:30 job once on the fall-back day', async () => {
    const { scheduler, clock } = fakeTimeScheduler('2026-10-24T12:00:00Z', { a: noop });
    await scheduler.jobs.create({
      name: 'night',
      schedule: '30 2 * * *',
      timezone: 'Europe/Paris',
      executor: 'a',
    });
    let count = 0;
    for (let step = 0; step < 24 * 4; step++) {
      clock.advance('15m');
      count += (await scheduler.runDue()).summary.executed;
    }
    expect(count).toBe(1);
  });

  describe('misfire after downtime (a */5 job, one hour down)', () => {
    async function afterDowntime(misfire: 'once' | 'skip' | 'all', extra: Record<string, unknown> = {}) {
      const { scheduler, clock } = fakeTimeScheduler('2026-03-01T00:00:00Z', { a: noop });
      await scheduler.jobs.create({ name: 'j', schedule: '*/5 * * * *', executor: 'a', misfire, ...extra });
      clock.advance('1h');
      const result = await scheduler.runDue();
      const job = await scheduler.jobs.get('j');
      return { result, job, slots: result.executed.map((run) => run.scheduledFor?.toISOString()) };
    }

    it('once: one coalesced catch-up run for the newest slot', async () => {
      const { slots, job } = await afterDowntime('once');
      expect(slots).toEqual(['2026-03-01T01:00:00.000Z']);
      expect(job.nextRunAt?.toISOString()).toBe('2026-03-01T01:05:00.000Z');
    });

    it('skip: no catch-up run, straight to the next future slot', async () => {
      const { slots, job } = await afterDowntime('skip');
      expect(slots).toEqual([]);
      expect(job.nextRunAt?.toISOString()).toBe('2026-03-01T01:05:00.000Z');
    });

    it('all: every missed slot, capped by catchUpLimit (newest kept)', async () => {
      const { slots } = await afterDowntime('all', { catchUpLimit: 4 });
      expect(slots).toEqual([
        '2026-03-01T00:45:00.000Z',
        '2026-03-01T00:50:00.000Z',
        '2026-03-01T00:55:00.000Z',
        '2026-03-01T01:00:00.000Z',
      ]);
      const all = await afterDowntime('all');
      expect(all.slots).toHaveLength(10);
    });

    it('misfireGrace bounds how late a slot may still start', async () => {
      const { slots } = await afterDowntime('all', { misfireGrace: '10m' });
      expect(slots).toEqual([
        '2026-03-01T00:50:00.000Z',
        '2026-03-01T00:55:00.000Z',
        '2026-03-01T01:00:00.000Z',
      ]);
    });
  });

  it('catches up after a year down without walking every missed minute', async () => {
    const { scheduler, clock } = fakeTimeScheduler('2025-03-01T00:00:00Z', { a: noop });
    await scheduler.jobs.create({
      name: 'all',
      schedule: '* * * * *',
      executor: 'a',
      misfire: 'all',
      catchUpLimit: 3,
      overlap: 'allow',
    });
    await scheduler.jobs.create({ name: 'once', schedule: '* * * * *', executor: 'a' });
    clock.advance('365d');
    const started = Date.now();
    const { executed } = await scheduler.runDue();
    expect(Date.now() - started).toBeLessThan(2_000);
    const slots = (name: string) =>
      executed.filter((run) => run.jobName === name).map((run) => run.scheduledFor?.toISOString());
    expect(slots('all')).toEqual([
      '2026-02-28T23:58:00.000Z',
      '2026-02-28T23:59:00.000Z',
      '2026-03-01T00:00:00.000Z',
    ]);
    expect(slots('once')).toEqual(['2026-03-01T00:00:00.000Z']);
  });

  it('honours activeFrom and activeUntil', async () => {
    const { scheduler, clock } = fakeTimeScheduler('2026-03-01T00:00:00Z', { a: noop });
    const job = await scheduler.jobs.create({
      name: 'j',
      schedule: 'hourly',
      executor: 'a',
      activeFrom: '2026-03-01T05:30:00Z',
      activeUntil: '2026-03-01T07:00:00Z',
    });
    expect(job.nextRunAt?.toISOString()).toBe('2026-03-01T06:00:00.000Z');
    let count = 0;
    for (let i = 0; i < 10; i++) {
      clock.advance('1h');
      count += (await scheduler.runDue()).summary.executed;
    }
    expect(count).toBe(2);
    expect((await scheduler.jobs.get('j')).nextRunAt).toBeNull();
  });

  it('delays each slot by random() × jitter, drawn from the injected source, without moving scheduledFor', async () => {
    const delays: Record<string, number> = {};
    for (const draw of [0, 0.5, 0.99999]) {
      const { scheduler, clock } = fakeTimeScheduler(
        '2026-03-01T00:00:00Z',
        { a: noop },
        { random: () => draw },
      );
      await scheduler.jobs.create({ name: 'j', schedule: 'hourly', executor: 'a', jitter: '30s' });
      clock.advance('1h');
      await scheduler.runDue();
      const [run] = (await scheduler.runs.list({ job: 'j' })).items;
      expect(run?.scheduledFor?.toISOString()).toBe('2026-03-01T01:00:00.000Z');
      delays[draw] = (run?.runAt.getTime() ?? 0) - Date.parse('2026-03-01T01:00:00Z');
    }
    expect(delays).toEqual({ 0: 0, 0.5: 15_000, 0.99999: 29_999 });
  });

  it('draws a delay per slot: misfire all catches up three slots, each with its own jittered start', async () => {
    // Draws cycle through three values: the three slots, drawn one after another, get one each.
    const draws = [0.1, 0.5, 0.9];
    let next = 0;
    const random = () => draws[next++ % draws.length] as number;
    const { scheduler, clock } = fakeTimeScheduler('2026-03-01T00:00:00Z', { a: noop }, { random });
    await scheduler.jobs.create({
      name: 'j',
      schedule: 'hourly',
      executor: 'a',
      jitter: '10m',
      misfire: 'all',
    });
    clock.advance('3h');
    await scheduler.runDue();
    const runs = (await scheduler.runs.list({ job: 'j' })).items.sort(
      (a, b) => (a.scheduledFor?.getTime() ?? 0) - (b.scheduledFor?.getTime() ?? 0),
    );
    const offsets = runs.map((run) => run.runAt.getTime() - (run.scheduledFor?.getTime() ?? 0));
    expect(offsets.sort((a, b) => a - b)).toEqual([60_000, 300_000, 540_000]);
  });

  it('rejects a random source that is not a function, and a draw outside [0, 1)', async () => {
    expect(() => fakeTimeScheduler(undefined, { a: noop }, { random: 0.5 as never })).toThrow(
      expect.objectContaining({ code: 'VALIDATION', path: 'random' }),
    );
    const { scheduler, clock } = fakeTimeScheduler('2026-03-01T00:00:00Z', { a: noop }, { random: () => 1 });
    await scheduler.jobs.create({ name: 'j', schedule: 'hourly', executor: 'a', jitter: '30s' });
    clock.advance('1h');
    await expect(scheduler.runDue()).rejects.toThrow(/random/);
    expect((await scheduler.runs.list({ job: 'j' })).items).toEqual([]);
  });
});

describe('overlap under a slow executor', () => {
  async function slowJob(overlap: 'skip' | 'queue' | 'allow') {
    const gate = deferred();
    let started = 0;
    const { scheduler, clock } = fakeTimeScheduler('2026-03-01T00:00:00Z', {
      slow: {
        run: async () => {
          started++;
          await gate.promise;
        },
      },
    });
    await scheduler.jobs.create({ name: 'j', schedule: '* * * * *', executor: 'slow', overlap });
    clock.advance('1m');
    const first = scheduler.runDue();
    await new Promise((resolve) => setTimeout(resolve, 20));
    clock.advance('1m');
    const second = await Promise.race([
      scheduler.runDue(),
      new Promise((resolve) => setTimeout(() => resolve('blocked'), 100)),
    ]);
    return { scheduler, gate, first, second, started: () => started };
  }

  it('skip: the slot due while running is recorded skipped', async () => {
    const { scheduler, gate, first, second } = await slowJob('skip');
    expect(second).toMatchObject({ summary: { skipped: 1, executed: 0 } });
    gate.resolve();
    await first;
    expect((await scheduler.runs.list({ status: 'skipped' })).items).toHaveLength(1);
  });

  it('skip, in the loop with every slot busy: the slot due while running is recorded skipped as it fires, not started late', async () => {
    const gate = deferred();
    let started = 0;
    const { scheduler, clock } = fakeTimeScheduler(
      '2026-03-01T00:00:00Z',
      {
        slow: {
          run: async () => {
            started++;
            await gate.promise;
          },
        },
      },
      { concurrency: 1, pollInterval: '30s' },
    );
    const poll = async (check: () => Promise<boolean> | boolean) => {
      for (let tries = 0; !(await check()); tries++) {
        if (tries > 200) throw new Error('timed out');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    const slots = async () =>
      (await scheduler.runs.list({})).items
        .map((run) => `${run.scheduledFor?.toISOString().slice(11, 16)} ${run.status}`)
        .sort();
    await scheduler.jobs.create({ name: 'j', schedule: '* * * * *', executor: 'slow', overlap: 'skip' });
    await scheduler.start();
    clock.advance('1m');
    await scheduler.reload();
    await poll(() => started === 1);
    // The only slot is taken: no claim looks at the next run until this one ends.
    clock.advance('1m');
    await scheduler.reload();
    await poll(async () => (await slots()).includes('00:02 skipped'));
    gate.resolve();
    await poll(async () => (await slots()).includes('00:01 succeeded'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await scheduler.stop();
    expect(started).toBe(1);
    expect(await slots()).toEqual(['00:01 succeeded', '00:02 skipped']);
  });

  it('queue: the slot waits and starts when the running one ends', async () => {
    const { scheduler, gate, first, second, started } = await slowJob('queue');
    expect(second).toMatchObject({ summary: { total: 0 } });
    expect(started()).toBe(1);
    gate.resolve();
    await first;
    await scheduler.runDue();
    expect(started()).toBe(2);
    expect((await scheduler.runs.list({ status: 'succeeded' })).items).toHaveLength(2);
  });

  it('allow: both slots run in parallel', async () => {
    const { gate, first, second, started } = await slowJob('allow');
    expect(second).toBe('blocked');
    expect(started()).toBe(2);
    gate.resolve();
    await first;
  });
});

describe('stale runs (seed 001 sweep)', () => {
  it("cleanupStale marks runs running longer than the threshold failed, with seed 001's summary", async () => {
    const { scheduler, clock, store } = fakeTimeScheduler(
      '2026-03-01T00:00:00Z',
      { synchroFacture: noop, zendeskTicket: noop },
      { lease: '30d' },
    );
    await scheduler.jobs.create({ name: 'sync', schedule: 'daily', executor: 'synchroFacture' });
    await scheduler.trigger({ job: 'sync' });
    await scheduler.trigger({ executor: 'zendeskTicket' });
    await store.claimRuns({ workerId: 'gone', now: clock.now(), limit: 10, leaseMs: 30 * 86_400_000 });
    clock.advance('2d');
    expect((await scheduler.cleanupStale()).updated).toBe(0);
    clock.advance('1441m');
    const summary = await scheduler.cleanupStale({ olderThan: '3d' });
    expect(summary).toMatchObject({
      updated: 2,
      jobs: ['sync'],
      executors: ['synchroFacture', 'zendeskTicket'],
    });
    expect(summary.threshold.toISOString()).toBe('2026-03-01T00:01:00.000Z');
    const failed = (await scheduler.runs.list({ status: 'failed' })).items;
    expect(failed[0]?.error?.message).toBe('Run marked as failed - exceeded 3 days timeout');
  });
});

describe('reporting and retention', () => {
  it('prunes finished runs past retention and never pending ones', async () => {
    const { scheduler, clock } = fakeTimeScheduler('2026-03-01T00:00:00Z', { a: noop });
    await scheduler.trigger({ executor: 'a' });
    await scheduler.runDue();
    const pending = await scheduler.schedule({ executor: 'a', at: '2026-06-01T00:00:00Z' });
    clock.advance('31d');
    expect((await scheduler.prune({ olderThan: '30d' })).deleted).toBe(1);
    expect((await scheduler.runs.get(pending.id)).status).toBe('pending');
  });

  it('computes KPIs, a 7-day timeline and the dashboard', async () => {
    const { scheduler, clock } = fakeTimeScheduler('2026-03-01T09:00:00Z', {
      ok: { description: 'always fine', run: () => {} },
      ko: { run: () => Promise.reject(new Error('nope')) },
    });
    await scheduler.jobs.create({
      name: 'check-alerts',
      schedule: 'every_30_minutes',
      executor: 'ok',
      description: 'Vérification Alertes',
    });
    await scheduler.trigger({ job: 'check-alerts' });
    await scheduler.trigger({ executor: 'ko' });
    await scheduler.runDue();
    clock.advance('2d');
    await scheduler.jobs.update('check-alerts', { schedule: 'daily' });
    await scheduler.trigger({ executor: 'ok' });
    await scheduler.runDue();
    const stats = await scheduler.stats();
    expect(stats).toMatchObject({ executions24h: 1, failures24h: 0, running: 0, successRate: 1 });
    expect(stats.nextRunAt?.toISOString()).toBe('2026-03-04T00:00:00.000Z');
    expect(stats.timeline).toHaveLength(7);
    expect(stats.timeline.at(-1)).toEqual({
      date: '2026-03-03',
      succeeded: 1,
      failed: 0,
      cancelled: 0,
      skipped: 0,
    });
    expect(stats.timeline.at(-3)).toEqual({
      date: '2026-03-01',
      succeeded: 1,
      failed: 1,
      cancelled: 0,
      skipped: 0,
    });
    const board = await scheduler.dashboard();
    expect(board.jobs[0]).toMatchObject({
      name: 'check-alerts',
      describe: 'At 00:00',
      status: 'succeeded',
      runCount: 1,
      errorCount: 0,
    });
    expect(board.executors.find((e) => e.name === 'ko')).toMatchObject({
      status: 'failed',
      runCount: 1,
      errorCount: 1,
    });
    expect(board.executors.find((e) => e.name === 'ok')).toMatchObject({
      description: 'always fine',
      runCount: 2,
    });
  });
});

describe('options', () => {
  it('rejects invalid options naming the field', () => {
    expect(() => createScheduler({ store: {} as never })).toThrow(/store/);
    const { store } = fakeTimeScheduler();
    expect(() => createScheduler({ store, timezone: 'Mars/Base' })).toThrow(/timezone/);
    expect(() => createScheduler({ store, pollInterval: 'soon' })).toThrow(/pollInterval/);
    expect(() => createScheduler({ store, concurrency: 0 })).toThrow(/concurrency/);
  });
});
