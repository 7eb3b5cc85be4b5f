import { defineExecutor, type JobAutoPausedEvent, NotFoundError, type Store } from '@cronkeeper/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeTimeScheduler } from './helpers.js';

describe('auto-pause', () => {
  function flaky() {
    const outcomes: boolean[] = [];
    const executor = {
      run: async () => {
        if (!(outcomes.shift() ?? false)) throw new Error('upstream down');
        return 'ok';
      },
    };
    return { outcomes, executor };
  }

  it('pauses a job after N failed runs in a row, with a note, and emits job:auto-paused once', async () => {
    const { outcomes, executor } = flaky();
    const { scheduler, clock } = fakeTimeScheduler('2026-03-01T00:00:00Z', { flaky: executor });
    const events: JobAutoPausedEvent[] = [];
    const changes: string[] = [];
    scheduler.on('job:auto-paused', (event) => events.push(event));
    scheduler.on('job:changed', (event) => changes.push(event.change));
    await scheduler.jobs.create({
      name: 'sync',
      schedule: '* * * * *',
      executor: 'flaky',
      autoPause: { afterFailures: 3 },
    });
    outcomes.push(false, true, false, false, false, false);
    for (let minute = 0; minute < 6; minute++) {
      clock.advance('1m');
      await scheduler.runDue();
    }
    const job = await scheduler.jobs.get('sync');
    expect(job).toMatchObject({
      enabled: false,
      nextRunAt: null,
      consecutiveFailures: 3,
      pausedNote: 'paused automatically after 3 failed runs in a row',
    });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      failures: 3,
      job: { name: 'sync', enabled: false },
      origin: scheduler.instanceId,
    });
    expect(events[0]?.run).not.toHaveProperty('pausedJob');
    expect(events[0]?.run.status).toBe('failed');
    expect(changes.filter((change) => change === 'paused')).toHaveLength(1);
    // Paused: the fifth minute fires nothing more.
    const runs = await scheduler.runs.list({ job: 'sync' });
    expect(runs.items).toHaveLength(5);
    const [latest] = (await scheduler.audit.list({ job: 'sync' })).items;
    expect(latest).toMatchObject({ action: 'paused', actor: null, note: job.pausedNote });
    // Resuming gives a fresh count: one more failure does not pause it again.
    await scheduler.jobs.resume('sync', { by: 'ops' });
    expect((await scheduler.jobs.get('sync')).consecutiveFailures).toBe(0);
    clock.advance('1m');
    await scheduler.runDue();
    expect((await scheduler.jobs.get('sync')).enabled).toBe(true);
  });

  it('counts a run whose retries all failed once, not each attempt', async () => {
    const { executor } = flaky();
    const { scheduler, clock } = fakeTimeScheduler('2026-03-01T00:00:00Z', { flaky: executor });
    await scheduler.jobs.create({
      name: 'retried',
      schedule: '0 * * * *',
      executor: 'flaky',
      retry: { limit: 2, backoff: { type: 'fixed', delay: 1000 } },
      autoPause: { afterFailures: 2 },
    });
    clock.advance('1h');
    await scheduler.runDue();
    expect((await scheduler.jobs.get('retried')).consecutiveFailures).toBe(0);
    clock.advance('1s');
    await scheduler.runDue();
    clock.advance('1s');
    await scheduler.runDue();
    // Three attempts, one slot: one failure in a row.
    expect(await scheduler.jobs.get('retried')).toMatchObject({
      consecutiveFailures: 1,
      enabled: true,
      errorCount: 3,
    });
  });

  it('rejects a bad autoPause naming the field', async () => {
    const { scheduler } = fakeTimeScheduler('2026-03-01T00:00:00Z', { flaky: flaky().executor });
    for (const autoPause of [{ afterFailures: 0 }, { afterFailures: 1.5 }, { after: 3 }, 3])
      await expect(
        scheduler.jobs.create({ name: 'x', schedule: 'hourly', executor: 'flaky', autoPause } as never),
      ).rejects.toMatchObject({
        issues: expect.arrayContaining([
          expect.objectContaining({ path: expect.stringMatching(/^autoPause/) }),
        ]),
      });
  });
});

describe('preview', () => {
  it('gives the next instants in the zone and the schedule in words', async () => {
    const { scheduler } = fakeTimeScheduler('2026-03-27T12:00:00Z');
    const result = await scheduler.preview({ schedule: '30 2 * * *', timezone: 'Europe/Paris', count: 3 });
    // 29 March: 02:30 does not exist in Paris, so that slot fires at the gap's end (03:00 CEST).
    expect(result.next.map((date) => date.toISOString())).toEqual([
      '2026-03-28T01:30:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:30:00.000Z',
    ]);
    expect(result.description).toMatch(/02:30/);
    const from = await scheduler.preview({ schedule: 'every_15_minutes', from: '2026-01-01T00:00:00Z' });
    expect(from.next).toHaveLength(5);
    expect(from.next[0]?.toISOString()).toBe('2026-01-01T00:15:00.000Z');
    expect((await scheduler.preview({ schedule: 'daily', locale: 'fr' })).description).toMatch(/00:00/);
  });

  it('rejects an invalid schedule, zone, count or from with a ValidationError naming it', async () => {
    const { scheduler } = fakeTimeScheduler();
    const cases: [Record<string, unknown>, string][] = [
      [{ schedule: 'every tuesday' }, 'schedule'],
      [{ schedule: '' }, 'schedule'],
      [{ schedule: 'daily', timezone: 'Mars/Olympus' }, 'timezone'],
      [{ schedule: 'daily', count: 0 }, 'count'],
      [{ schedule: 'daily', count: 101 }, 'count'],
      [{ schedule: 'daily', from: 'not a date' }, 'from'],
      [{ schedule: 'daily', extra: 1 }, 'extra'],
    ];
    for (const [input, path] of cases)
      await expect(scheduler.preview(input as never)).rejects.toMatchObject({
        code: 'VALIDATION',
        issues: [expect.objectContaining({ path })],
      });
  });
});

/** Counts the zone-offset lookups (the costly part of a zoned schedule) made while `work` runs. */
async function zoneLookups(work: () => Promise<unknown>): Promise<number> {
  const spy = vi.spyOn(Intl.DateTimeFormat.prototype, 'formatToParts');
  try {
    await work().catch(() => undefined);
    return spy.mock.calls.length;
  } finally {
    spy.mockRestore();
  }
}

describe('bounded work of preview and backfill', () => {
  afterEach(() => vi.restoreAllMocks());

  it('a preview stops 10 years past `from`, so a schedule firing once in decades costs a few lookups, not centuries', async () => {
    const { scheduler } = fakeTimeScheduler('2026-03-01T00:00:00Z');
    // The fifth Monday of February: only in a leap year whose 29 February is a Monday.
    const input = { schedule: '0 0 0 ? 2 1#5', timezone: 'America/Santiago', count: 100 };
    let result: Awaited<ReturnType<typeof scheduler.preview>> | undefined;
    const lookups = await zoneLookups(async () => {
      result = await scheduler.preview({ ...input, from: '2026-06-01T00:00:00Z' });
    });
    expect(result?.horizon.toISOString()).toBe('2036-06-01T00:00:00.000Z');
    expect(result?.next.length).toBeLessThanOrEqual(1);
    // Each instant found searches a few 64-day spans of offsets (~150 lookups each); 100 instants
    // over 2 800 years cost tens of thousands.
    expect(lookups).toBeLessThan(2_000);
    const hourly = await scheduler.preview({ schedule: 'hourly', count: 100, from: '2026-01-01T00:00:00Z' });
    expect(hourly.next).toHaveLength(100);
    expect(hourly.horizon.toISOString()).toBe('2036-01-01T00:00:00.000Z');
  });

  it('a backfill reaching more than 366 days back is refused naming `from`, before any slot is computed', async () => {
    const { scheduler, clock } = fakeTimeScheduler('2026-03-01T00:00:00Z', {
      report: defineExecutor({ run: async () => null }),
    });
    await scheduler.jobs.create({
      name: 'sparse',
      schedule: '0 0 0 ? 2 1#5',
      timezone: 'Australia/Lord_Howe',
      executor: 'report',
    });
    clock.advance('1d');
    let refusal: unknown;
    const lookups = await zoneLookups(async () => {
      refusal = await scheduler
        .backfill({ job: 'sparse', from: '-250000-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z', limit: 1000 })
        .catch((error: unknown) => error);
    });
    expect(refusal).toMatchObject({ code: 'VALIDATION', issues: [{ path: 'from' }] });
    expect(lookups).toBe(0);
    // The first instant JavaScript dates can hold: named `from`, not an inner argument.
    await expect(
      scheduler.backfill({ job: 'sparse', from: '-271821-04-20T00:00:00.000Z', to: '2026-03-01T00:00:00Z' }),
    ).rejects.toMatchObject({ issues: [{ path: 'from' }] });
    await expect(
      scheduler.backfill({ job: 'sparse', from: '2025-02-28T00:00:00Z', to: '2026-03-01T00:00:00Z' }),
    ).rejects.toMatchObject({ issues: [{ path: 'from' }] });
    // A year back is fine (and this schedule has no slot in it).
    expect(
      await scheduler.backfill({ job: 'sparse', from: '2025-03-02T00:00:00Z', to: '2026-03-01T00:00:00Z' }),
    ).toEqual({ created: [], skipped: 0 });
    expect((await scheduler.runs.list({ trigger: 'backfill' })).items).toEqual([]);
  });

  it("a tenant's backfill counts with its one-offs against the pending caps, all or nothing", async () => {
    const { scheduler, clock } = fakeTimeScheduler(
      '2026-03-01T00:00:00Z',
      { report: defineExecutor({ run: async () => null }) },
      { oneOffLimits: { perJob: 5, perTenant: 8 } },
    );
    for (const name of ['hourly', 'other'])
      await scheduler.jobs.create({
        name,
        schedule: '0 * * * *',
        executor: 'report',
        tenantId: 'acme',
        enabled: false,
      });
    clock.advance('1d');
    const range = (hours: number) => ({
      job: 'hourly',
      tenantId: 'acme',
      from: '2026-03-01T00:00:00Z',
      to: `2026-03-01T${String(hours).padStart(2, '0')}:00:00Z`,
    });
    const calls: number[] = [];
    const hook = { beforeCreate: (target: { slots: Date[] }) => void calls.push(target.slots.length) };
    await expect(scheduler.backfill({ ...range(6), ...hook })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(/oneOffLimits\.perJob is 5/),
    });
    expect(calls).toEqual([]);
    expect((await scheduler.runs.list({ tenantId: 'acme' })).items).toEqual([]);
    expect((await scheduler.backfill({ ...range(5), ...hook })).created).toHaveLength(5);
    expect(calls).toEqual([5]);
    // The job is full: a one-off is refused, and so is a backfill of the other job past the tenant's cap.
    await expect(
      scheduler.schedule({ job: 'hourly', tenantId: 'acme', at: '2026-03-03T00:00:00Z' }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(scheduler.backfill({ ...range(4), job: 'other' })).rejects.toMatchObject({
      message: expect.stringMatching(/oneOffLimits\.perTenant is 8/),
    });
    expect((await scheduler.backfill({ ...range(3), job: 'other' })).created).toHaveLength(3);
  });
});

describe('backfill', () => {
  it('creates one run per slot in [from, to), skips slots that have a run, and runs them in slot order', async () => {
    const seen: string[] = [];
    const { scheduler, clock } = fakeTimeScheduler('2026-03-01T00:00:00Z', {
      report: defineExecutor({
        run: async (ctx) => {
          seen.push(`${ctx.run.trigger} ${ctx.run.scheduledFor?.toISOString()}`);
        },
      }),
    });
    await scheduler.jobs.create({
      name: 'hourly',
      schedule: '0 * * * *',
      executor: 'report',
      misfire: 'skip',
    });
    clock.advance('210m');
    await scheduler.runDue(); // misfire skip: the missed 01:00–03:00 slots get no run
    const result = await scheduler.backfill({
      job: 'hourly',
      from: '2026-03-01T00:00:00Z',
      to: '2026-03-01T03:00:00Z',
      triggeredBy: 'ops',
    });
    expect(result.skipped).toBe(0);
    expect(
      result.created.map((run) => [run.trigger, run.scheduledFor?.toISOString(), run.triggeredBy]),
    ).toEqual([
      ['backfill', '2026-03-01T00:00:00.000Z', 'ops'],
      ['backfill', '2026-03-01T01:00:00.000Z', 'ops'],
      ['backfill', '2026-03-01T02:00:00.000Z', 'ops'],
    ]);
    const again = await scheduler.backfill({
      job: 'hourly',
      from: '2026-03-01T00:00:00Z',
      to: '2026-03-01T03:00:00Z',
    });
    expect(again.created).toHaveLength(0);
    expect(again.skipped).toBe(3);
    await scheduler.runDue();
    expect(seen).toEqual([
      'backfill 2026-03-01T00:00:00.000Z',
      'backfill 2026-03-01T01:00:00.000Z',
      'backfill 2026-03-01T02:00:00.000Z',
    ]);
    expect((await scheduler.runs.list({ trigger: 'backfill' })).items).toHaveLength(3);
  });

  it('refuses a range holding more slots than the limit, naming limit, and creates nothing', async () => {
    const { scheduler, clock } = fakeTimeScheduler('2026-03-01T00:00:00Z', {
      report: defineExecutor({ run: async () => null }),
    });
    await scheduler.jobs.create({ name: 'minutely', schedule: '* * * * *', executor: 'report' });
    clock.advance('1d');
    const range = { job: 'minutely', from: '2026-03-01T00:00:00Z', to: '2026-03-01T02:00:00Z' };
    await expect(scheduler.backfill(range)).rejects.toMatchObject({ issues: [{ path: 'limit' }] });
    await expect(scheduler.backfill({ ...range, limit: 1001 })).rejects.toMatchObject({
      issues: [{ path: 'limit' }],
    });
    expect((await scheduler.runs.list({ trigger: 'backfill' })).items).toEqual([]);
    expect((await scheduler.backfill({ ...range, limit: 120 })).created).toHaveLength(120);
  });

  it('rejects an empty, reversed or future range and an unknown job', async () => {
    const { scheduler } = fakeTimeScheduler('2026-03-01T00:00:00Z', {
      report: defineExecutor({ run: async () => null }),
    });
    await scheduler.jobs.create({ name: 'daily', schedule: 'daily', executor: 'report' });
    const at = '2026-02-01T00:00:00Z';
    await expect(scheduler.backfill({ job: 'daily', from: at, to: at })).rejects.toMatchObject({
      issues: [{ path: 'to' }],
    });
    await expect(
      scheduler.backfill({ job: 'daily', from: at, to: '2026-03-02T00:00:00Z' }),
    ).rejects.toMatchObject({ issues: [{ path: 'to' }] });
    await expect(scheduler.backfill({ job: 'daily', from: 'soon', to: at } as never)).rejects.toMatchObject({
      issues: [{ path: 'from' }],
    });
    await expect(
      scheduler.backfill({ job: 'nope', from: '2026-01-01T00:00:00Z', to: at }),
    ).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('health', () => {
  it('initialises the store on a first call, and reports a store that cannot start as unreachable, never rejecting', async () => {
    const { scheduler, store } = fakeTimeScheduler('2026-03-01T00:00:00Z', {});
    const init = store.init.bind(store);
    let attempts = 0;
    const reads: string[] = [];
    store.init = async () => {
      attempts += 1;
      if (attempts === 1) throw new Error('relation "cronkeeper_jobs" does not exist');
      await init();
    };
    const findDueJobs = store.findDueJobs.bind(store);
    store.findDueJobs = async (query) => {
      reads.push(attempts === 1 ? 'before init' : 'after init');
      return findDueJobs(query);
    };
    const down = await scheduler.health();
    expect(down).toMatchObject({
      ok: false,
      store: { reachable: false, error: expect.stringContaining('cronkeeper_jobs') },
      oldestDueLagMs: null,
      stuckRuns: null,
    });
    // Nothing was read from a store that never initialised.
    expect(reads).toEqual([]);
    const up = await scheduler.health();
    expect(up).toMatchObject({ ok: true, store: { reachable: true } });
    expect(attempts).toBe(2);
    expect(reads).toEqual(['after init']);
  });

  it('is ok before start (heartbeat mode) when the store answers, and reports the lag of the oldest due slot', async () => {
    const { scheduler, clock } = fakeTimeScheduler('2026-03-01T00:00:00Z', {
      report: defineExecutor({ run: async () => null }),
    });
    await scheduler.jobs.create({ name: 'hourly', schedule: '0 * * * *', executor: 'report' });
    const idle = await scheduler.health();
    expect(idle).toMatchObject({
      ok: true,
      loop: { started: false, alive: false },
      oldestDueLagMs: 0,
      stuckRuns: 0,
    });
    expect(idle.store.reachable).toBe(true);
    clock.advance('70m');
    const late = await scheduler.health();
    expect(late.oldestDueLagMs).toBe(10 * 60_000);
    expect(late.ok).toBe(true);
    expect((await scheduler.health({ maxLag: '5m' })).ok).toBe(false);
    expect((await scheduler.health({ maxLag: '15m' })).ok).toBe(true);
  });

  it('is not ok when the store does not answer within the timeout, and says why', async () => {
    const { scheduler, store } = fakeTimeScheduler();
    const hanging = store as Store;
    hanging.findDueJobs = () => new Promise(() => {});
    const started = Date.now();
    const report = await scheduler.health({ timeout: 50 });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(report).toMatchObject({ ok: false, oldestDueLagMs: null, stuckRuns: null });
    expect(report.store).toMatchObject({ reachable: false, latencyMs: 50 });
    expect(report.store.error).toMatch(/50 ms/);
    const failing = fakeTimeScheduler();
    failing.store.findExpiredLeases = async () => {
      throw new Error('connection refused');
    };
    expect((await failing.scheduler.health()).store).toMatchObject({
      reachable: false,
      error: 'connection refused',
    });
  });

  it('once started, is ok while the loop ticks, and not once it stalls', async () => {
    const { scheduler, clock } = fakeTimeScheduler('2026-03-01T00:00:00Z', {}, { pollInterval: 20 });
    await scheduler.start();
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const alive = await scheduler.health();
      expect(alive.loop).toMatchObject({ started: true, alive: true, maxTickAgeMs: 30_060 });
      expect(alive.ok).toBe(true);
      // Time jumps past the allowed tick age without a tick completing: the loop is stuck.
      clock.advance('1m');
      const stalled = await scheduler.health();
      expect(stalled.loop.alive).toBe(false);
      expect(stalled.ok).toBe(false);
    } finally {
      await scheduler.stop();
    }
    expect((await scheduler.health()).loop.started).toBe(false);
  });

  it('counts runs stuck past their lease that no instance recovered', async () => {
    const { scheduler, store, clock } = fakeTimeScheduler('2026-03-01T00:00:00Z', {
      report: defineExecutor({ run: async () => null }),
    });
    const run = await scheduler.trigger({ executor: 'report' });
    await store.claimRuns({ workerId: 'vanished', now: clock.now(), limit: 1, leaseMs: 10_000 });
    expect((await scheduler.health()).stuckRuns).toBe(0);
    clock.advance('11s');
    expect((await scheduler.health()).stuckRuns).toBe(1);
    // An instance takes a lapsed lease over only once it watched it unrenewed for a whole lease:
    // the first look starts watching, and the run stays stuck until then.
    await scheduler.runDue();
    expect((await scheduler.runs.get(run.id)).status).toBe('running');
    expect((await scheduler.health()).stuckRuns).toBe(1);
    clock.advance('10s');
    await scheduler.runDue();
    expect((await scheduler.runs.get(run.id)).status).toBe('failed');
    expect((await scheduler.health()).stuckRuns).toBe(0);
  });
});
