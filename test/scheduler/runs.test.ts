import { ConflictError, type Run, ValidationError } from '@cronkeeper/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { deferred, fakeTimeScheduler } from './helpers.js';

describe('manual runs, one-offs and the run lifecycle', () => {
  it('runs a manual trigger through pending → running → succeeded with an audit trail', async () => {
    const statuses: string[] = [];
    const { scheduler } = fakeTimeScheduler(undefined, { monitorBudget: { run: () => ({ usage: 3.24 }) } });
    for (const event of ['run:created', 'run:started', 'run:succeeded'] as const)
      scheduler.on(event, ({ run }) => statuses.push(run.status));
    await scheduler.jobs.create({ name: 'monitor-openai', schedule: '0 8 * * *', executor: 'monitorBudget' });
    const run = await scheduler.trigger({ job: 'monitor-openai', triggeredBy: 'admin@example.com' });
    expect(run).toMatchObject({
      status: 'pending',
      trigger: 'manual',
      triggeredBy: 'admin@example.com',
      jobName: 'monitor-openai',
    });
    const { summary } = await scheduler.runDue();
    expect(summary).toEqual({ total: 1, executed: 1, skipped: 0, failed: 0 });
    const done = await scheduler.runs.get(run.id);
    expect(done).toMatchObject({ status: 'succeeded', result: { usage: 3.24 }, attempt: 1 });
    expect(done.durationMs).toBeGreaterThanOrEqual(0);
    expect(statuses).toEqual(['pending', 'running', 'succeeded']);
    const job = await scheduler.jobs.get('monitor-openai');
    expect(job).toMatchObject({ runCount: 1, errorCount: 0, lastStatus: 'succeeded', lastRunId: run.id });
  });

  it('fails a run with a readable error whatever its executor throws, even what cannot be shown as text', async () => {
    const unreadableMessage = new Error('x');
    Object.defineProperty(unreadableMessage, 'message', {
      get() {
        throw new Error('no');
      },
    });
    const objectMessage = new Error('x');
    (objectMessage as { message: unknown }).message = { a: 'x\u0000' };
    const numberMessage = new Error('x');
    (numberMessage as { message: unknown }).message = 42;
    const thrown: [label: string, value: unknown, message: string | RegExp][] = [
      ['an object without a prototype', Object.create(null), /cannot be shown as text/],
      [
        'an object whose toString throws',
        {
          toString: () => {
            throw new Error('no');
          },
        },
        /cannot be shown as text/,
      ],
      [
        'a revoked proxy',
        (() => {
          const p = Proxy.revocable({}, {});
          p.revoke();
          return p.proxy;
        })(),
        /cannot be shown as text/,
      ],
      ['an Error whose message getter throws', unreadableMessage, /message cannot be read/],
      ['an Error whose message is an object', objectMessage, '{"a":"x\\u0000"}'],
      ['an Error whose message is a number', numberMessage, '42'],
      ['a string', 'plain', 'plain'],
    ];
    const { scheduler } = fakeTimeScheduler(
      undefined,
      Object.fromEntries(
        thrown.map(([, value], index) => [
          `throws${index}`,
          {
            run: async () => {
              throw value;
            },
          },
        ]),
      ),
    );
    const runs = await Promise.all(
      thrown.map((_, index) => scheduler.trigger({ executor: `throws${index}` })),
    );
    const { summary } = await scheduler.runDue();
    expect(summary).toEqual({ total: thrown.length, executed: 0, skipped: 0, failed: thrown.length });
    for (const [index, [label, , message]] of thrown.entries()) {
      const run = await scheduler.runs.get((runs[index] as Run).id);
      expect(run.status, label).toBe('failed');
      expect(run.error?.code, label).toBe('error');
      expect(typeof run.error?.message, label).toBe('string');
      if (typeof message === 'string') expect(run.error?.message, label).toBe(message);
      else expect(run.error?.message, label).toMatch(message);
    }
  });

  it('records a progress note with U+0000 or an unpaired surrogate readably, as a log line is', async () => {
    const { scheduler } = fakeTimeScheduler(undefined, {
      noting: {
        run: async (ctx) => {
          ctx.progress(50, 'a\u0000b\uD800c');
          await ctx.heartbeat();
        },
      },
    });
    const run = await scheduler.trigger({ executor: 'noting' });
    await scheduler.runDue();
    const done = await scheduler.runs.get(run.id);
    expect(done.status).toBe('succeeded');
    expect(done.progress).toEqual({ percent: 50, note: 'a\uFFFDb\uFFFDc' });
  });

  it('gives each run its job as it is when the run starts, also after an edit between runs', async () => {
    const seen: unknown[] = [];
    const { scheduler, clock } = fakeTimeScheduler('2026-03-01T00:00:30Z', {
      report: { run: (ctx) => void seen.push(ctx.job?.metadata) },
    });
    await scheduler.jobs.create({
      name: 'nightly-report',
      schedule: '* * * * *',
      executor: 'report',
      metadata: { owner: 'ops' },
    });
    clock.advance('30s');
    await scheduler.runDue();
    await scheduler.jobs.update('nightly-report', { metadata: { owner: 'finance' } });
    await scheduler.trigger({ job: 'nightly-report' });
    await scheduler.runDue();
    clock.advance('1m');
    await scheduler.runDue();
    expect(seen).toEqual([{ owner: 'ops' }, { owner: 'finance' }, { owner: 'finance' }]);
  });

  it('answers ConflictError with the running run id while the job runs, unless forced', async () => {
    const gate = deferred();
    const { scheduler } = fakeTimeScheduler(undefined, { slow: { run: () => gate.promise } });
    await scheduler.jobs.create({ name: 'j', schedule: 'daily', executor: 'slow' });
    const first = await scheduler.trigger({ job: 'j' });
    const conflict = await scheduler.trigger({ job: 'j' }).catch((error: unknown) => error);
    expect(conflict).toBeInstanceOf(ConflictError);
    expect((conflict as ConflictError).runningRunId).toBe(first.id);
    // Not started yet: the message says the run is due, not running.
    expect((conflict as ConflictError).message).toBe(
      `"j" already has a run due (run ${first.id}); wait for it to run or pass force: true`,
    );
    const running = scheduler.runDue();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await scheduler.runs.get(first.id)).status).toBe('running');
    await expect(scheduler.trigger({ job: 'j' })).rejects.toMatchObject({
      code: 'CONFLICT',
      runningRunId: first.id,
      message: `"j" is already running (run ${first.id}); wait for it to finish or pass force: true`,
    });
    const forced = await scheduler.trigger({ job: 'j', force: true });
    expect(forced.overlap).toBe('allow');
    gate.resolve();
    await running;
  });

  it('validates run params against the executor schema, merging defaults < job < run', async () => {
    const seen: unknown[] = [];
    const { scheduler } = fakeTimeScheduler(undefined, {
      index: {
        params: z.object({ batchSize: z.number().int().max(50), source: z.string() }),
        defaults: { batchSize: 2, source: 'kb' },
        run: (ctx) => {
          seen.push(ctx.params);
        },
      },
    });
    await scheduler.jobs.create({
      name: 'index-kb',
      schedule: 'every_5_minutes',
      executor: 'index',
      params: { source: 'web' },
    });
    await scheduler.trigger({ job: 'index-kb', params: { batchSize: 5 } });
    await scheduler.runDue();
    expect(seen).toEqual([{ batchSize: 5, source: 'web' }]);
    await expect(scheduler.trigger({ job: 'index-kb', params: { batchSize: 'ten' } })).rejects.toMatchObject({
      code: 'VALIDATION',
      path: 'params.batchSize',
    });
  });

  it('schedules a one-off in the future with params, runs it when due, and rejects the past', async () => {
    const seen: unknown[] = [];
    const { scheduler, clock } = fakeTimeScheduler('2026-02-14T10:00:00Z', {
      reindex: { run: (ctx) => void seen.push(ctx.params) },
    });
    const at = new Date('2026-02-14T11:00:00Z');
    const run = await scheduler.schedule({
      executor: 'reindex',
      at,
      params: { batchSize: 5 },
      createdBy: 'admin',
    });
    expect(run).toMatchObject({ status: 'pending', trigger: 'once', triggeredBy: 'admin' });
    expect(run.runAt).toEqual(at);
    expect((await scheduler.runDue()).summary.total).toBe(0);
    clock.set(at);
    expect((await scheduler.runDue()).summary.executed).toBe(1);
    expect(seen).toEqual([{ batchSize: 5 }]);
    const past = await scheduler
      .schedule({ executor: 'reindex', at: '2026-02-14T10:59:00Z' })
      .catch((error: unknown) => error);
    expect(past).toBeInstanceOf(ValidationError);
    expect((past as ValidationError).path).toBe('at');
    expect((await scheduler.runs.list({ trigger: 'once' })).items).toHaveLength(1);
  });

  it('cancels a pending one-off, and refuses to cancel a finished run', async () => {
    const { scheduler, clock } = fakeTimeScheduler(undefined, { a: { run: () => {} } });
    const run = await scheduler.schedule({ executor: 'a', at: new Date(clock.now().getTime() + 60_000) });
    const cancelled = await scheduler.cancel(run.id, { by: 'admin' });
    expect(cancelled.status).toBe('cancelled');
    clock.advance('2m');
    expect((await scheduler.runDue()).summary.total).toBe(0);
    await expect(scheduler.cancel(run.id)).rejects.toBeInstanceOf(ConflictError);
  });

  it('cancels a running run through its signal', async () => {
    const { scheduler } = fakeTimeScheduler(undefined, {
      waits: {
        run: (ctx) =>
          new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
      },
    });
    const run = await scheduler.trigger({ executor: 'waits' });
    const due = scheduler.runDue();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await scheduler.cancel(run.id, { by: 'ops' });
    await due;
    const done = await scheduler.runs.get(run.id);
    expect(done.status).toBe('cancelled');
    expect(done.error?.code).toBe('cancelled');
  });

  it("gives an executor one signal, aborted with the cancel's reason whether it is read before or after", async () => {
    const seen: { same?: boolean; before?: boolean; after?: unknown; afterAborted?: boolean } = {};
    const { scheduler } = fakeTimeScheduler(undefined, {
      late: {
        run: async (ctx) => {
          // Read only once the cancel has landed: the signal comes into being already aborted.
          await new Promise((resolve) => setTimeout(resolve, 60));
          const first = ctx.signal;
          seen.afterAborted = first.aborted;
          seen.after = first.reason;
          seen.same = ctx.signal === first;
        },
      },
    });
    const run = await scheduler.trigger({ executor: 'late' });
    const due = scheduler.runDue();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await scheduler.cancel(run.id, { by: 'ops' });
    await due;
    expect(seen.afterAborted).toBe(true);
    expect(seen.after).toMatchObject({ name: 'RunAbort', code: 'cancelled' });
    expect(seen.same).toBe(true);
    expect((await scheduler.runs.get(run.id)).status).toBe('cancelled');
  });

  it('aborts a task that has a timeout of its own when its run is cancelled, with the cancel as reason', async () => {
    let reason: unknown;
    const { scheduler } = fakeTimeScheduler(undefined, {
      bounded: {
        timeout: '1h',
        run: (ctx) =>
          new Promise((_, reject) =>
            ctx.signal.addEventListener('abort', () => {
              reason = ctx.signal.reason;
              reject(ctx.signal.reason);
            }),
          ),
      },
    });
    const run = await scheduler.trigger({ executor: 'bounded' });
    const due = scheduler.runDue();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await scheduler.cancel(run.id, { by: 'ops' });
    await due;
    expect(reason).toMatchObject({ code: 'cancelled' });
    const done = await scheduler.runs.get(run.id);
    expect(done.status).toBe('cancelled');
    expect(done.error?.code).toBe('cancelled');
  });

  it('runs tasks in order in one run and records each outcome; a failure skips the rest', async () => {
    const order: string[] = [];
    const { scheduler } = fakeTimeScheduler(undefined, {
      synchroRapelles: { run: () => void order.push('rapelles') },
      synchroFacture: {
        run: () => {
          order.push('facture');
          throw new Error('API down');
        },
      },
      zendeskTicket: { run: () => void order.push('zendesk') },
    });
    await scheduler.jobs.create({
      name: 'morning-sync-3am',
      schedule: '0 3 * * *',
      tasks: ['synchroRapelles', 'synchroFacture', 'zendeskTicket'],
    });
    const run = await scheduler.trigger({ job: 'morning-sync-3am' });
    const { failed } = await scheduler.runDue();
    expect(order).toEqual(['rapelles', 'facture']);
    expect(failed.map((r) => r.id)).toEqual([run.id]);
    const done = await scheduler.runs.get(run.id);
    expect(done.tasks.map((task) => task.status)).toEqual(['succeeded', 'failed', 'skipped']);
    expect(done.error).toEqual({ code: 'error', message: 'API down' });
    expect((await scheduler.jobs.get('morning-sync-3am')).lastError).toBe('API down');
  });

  it('leaves the run a run:started listener was given as it started, while its tasks go on', async () => {
    const { scheduler } = fakeTimeScheduler(undefined, {
      first: { run: () => 'one' },
      second: { run: () => 'two' },
    });
    await scheduler.jobs.create({ name: 'two-steps', schedule: '0 3 * * *', tasks: ['first', 'second'] });
    const started: Run[] = [];
    scheduler.on('run:started', ({ run }) => started.push(run));
    await scheduler.trigger({ job: 'two-steps' });
    await scheduler.runDue();
    expect(started).toHaveLength(1);
    expect(started[0]?.tasks.map((task) => [task.status, task.result])).toEqual([
      ['pending', null],
      ['pending', null],
    ]);
  });
  it('retries a failed run with exponential backoff, each retry a new run linked to its parent', async () => {
    let calls = 0;
    const { scheduler, clock } = fakeTimeScheduler(undefined, {
      flaky: {
        retry: { limit: 2, backoff: { type: 'exponential', delay: '10s' } },
        run: () => {
          calls++;
          throw new Error(`boom ${calls}`);
        },
      },
    });
    const first = await scheduler.trigger({ executor: 'flaky' });
    await scheduler.runDue();
    let runs = (await scheduler.runs.list()).items;
    const retry1 = runs.find((run) => run.trigger === 'retry') as Run;
    expect(retry1).toMatchObject({ attempt: 2, parentRunId: first.id, status: 'pending' });
    expect(retry1.runAt.getTime() - clock.now().getTime()).toBe(10_000);
    clock.advance('10s');
    await scheduler.runDue();
    clock.advance('20s');
    await scheduler.runDue();
    clock.advance('1h');
    await scheduler.runDue();
    runs = (await scheduler.runs.list()).items;
    expect(calls).toBe(3);
    expect(runs.map((run) => run.attempt).sort()).toEqual([1, 2, 3]);
    expect(runs.every((run) => run.status === 'failed')).toBe(true);
  });

  it('fails a run that outlives its timeout with code timeout', async () => {
    const { scheduler } = fakeTimeScheduler(undefined, {
      stuck: {
        timeout: '50ms',
        run: (ctx) =>
          new Promise((_, reject) =>
            ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))),
          ),
      },
    });
    const run = await scheduler.trigger({ executor: 'stuck' });
    await scheduler.runDue();
    expect((await scheduler.runs.get(run.id)).error?.code).toBe('timeout');
  });

  it('refuses a zero timeout on a job and on an executor: no timeout is null, not 0', async () => {
    const { scheduler } = fakeTimeScheduler(undefined, { noop: { run: () => null } });
    for (const timeout of [0, '0s', '0ms'])
      await expect(
        scheduler.jobs.create({
          name: `t-${String(timeout)}`,
          schedule: 'hourly',
          executor: 'noop',
          timeout,
        }),
      ).rejects.toMatchObject({ path: 'timeout', message: expect.stringMatching(/at least 1 ms/) });
    expect(() => fakeTimeScheduler(undefined, { zero: { timeout: 0, run: () => null } })).toThrow(
      /timeout.*at least 1 ms/,
    );
    await expect(scheduler.jobs.list()).resolves.toEqual([]);
  });

  it('stores the last progress an executor reported with its outcome, even without a heartbeat', async () => {
    const { scheduler } = fakeTimeScheduler(undefined, {
      quick: {
        run: (ctx) => {
          ctx.progress(10, 'starting');
          ctx.progress(100, 'all done\u0000');
          return 'ok';
        },
      },
      silent: { run: () => 'ok' },
    });
    const reported = await scheduler.trigger({ executor: 'quick' });
    const silent = await scheduler.trigger({ executor: 'silent' });
    await scheduler.runDue();
    expect((await scheduler.runs.get(reported.id)).progress).toEqual({
      percent: 100,
      note: 'all done\uFFFD',
    });
    expect((await scheduler.runs.get(silent.id)).progress).toBeNull();
  });

  it('fails a run whose result JSON cannot hold, instead of storing some text of it', async () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const results: Record<string, unknown> = {
      cyclic,
      bigint: { n: 10n },
      fn: function secret() {
        return 'api-key-123';
      },
      symbol: Symbol('s'),
    };
    const { scheduler } = fakeTimeScheduler(
      undefined,
      Object.fromEntries(Object.entries(results).map(([name, value]) => [name, { run: () => value }])),
    );
    for (const name of Object.keys(results)) {
      const run = await scheduler.trigger({ executor: name });
      await scheduler.runDue();
      const done = await scheduler.runs.get(run.id);
      expect(done.status, name).toBe('failed');
      expect(done.error?.code, name).toBe('invalid_result');
      expect(done.result, name).toBeNull();
      expect(JSON.stringify(done), name).not.toContain('api-key-123');
    }
  });

  it('keeps executor log lines on the run, capped', async () => {
    const { scheduler } = fakeTimeScheduler(
      undefined,
      {
        chatty: {
          run: (ctx) => {
            for (let i = 0; i < 10; i++) ctx.log.info(`line ${i}`);
          },
        },
      },
      { maxLogLines: 5 },
    );
    const run = await scheduler.trigger({ executor: 'chatty' });
    await scheduler.runDue();
    const logs = (await scheduler.runs.get(run.id)).logs;
    expect(logs.slice(0, 5).map((line) => line.message)).toEqual([
      'line 0',
      'line 1',
      'line 2',
      'line 3',
      'line 4',
    ]);
    expect(logs[5]?.message).toMatch(/5 more log lines were dropped/);
  });

  it('pages run history newest first with a cursor', async () => {
    const { scheduler, clock } = fakeTimeScheduler(undefined, { a: { run: () => {} } });
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      ids.push((await scheduler.trigger({ executor: 'a', force: true })).id);
      clock.advance('1s');
    }
    const page1 = await scheduler.runs.list({ limit: 3 });
    const page2 = await scheduler.runs.list({ limit: 3, cursor: page1.nextCursor });
    const page3 = await scheduler.runs.list({ limit: 3, cursor: page2.nextCursor });
    expect([...page1.items, ...page2.items, ...page3.items].map((run) => run.id)).toEqual(ids.reverse());
    expect(page3.nextCursor).toBeNull();
  });
});
