import { encodeRunCursor, ValidationError } from '@cronkeeper/core';
import { newRun, T0 } from '@cronkeeper/core/testing';
import { Aggregator, Query } from 'mingo';
import type { Document } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { encodeNewRun } from '../src/documents.js';
import {
  activeKeyFilter,
  activeRunFilter,
  bookkeepingUpdate,
  CLAIM_ORDER,
  claimFilter,
  claimUpdate,
  countActivePipeline,
  countRunsPipeline,
  dedupeKeyFilter,
  endedTasks,
  endPendingUpdate,
  executorSummaryPipeline,
  finishPipeline,
  rateLimitPipeline,
  retryAfterMs,
  runListQuery,
  tenantFilter,
} from '../src/queries.js';

const at = (ms: number) => new Date(T0.getTime() + ms);

describe('tenant and lifecycle filters', () => {
  it('match every tenant when absent, none when empty, and global runs as null', () => {
    expect(tenantFilter(undefined)).toEqual({});
    expect(tenantFilter([])).toEqual({ tenantId: { $in: [] } });
    expect(tenantFilter(['acme', null])).toEqual({ tenantId: { $in: ['acme', null] } });
  });

  it('treat a run as active when running, or pending and due at now', () => {
    expect(activeRunFilter('job:1', T0)).toEqual({
      concurrencyKey: 'job:1',
      $or: [{ status: 'running' }, { status: 'pending', runAt: { $lte: T0 } }],
    });
  });

  it('claim due pending runs in priority, runAt, createdAt order, leaving out queue runs of busy keys', () => {
    expect(claimFilter(T0, new Set())).toEqual({ status: 'pending', runAt: { $lte: T0 } });
    expect(claimFilter(T0, new Set(['job:a', 'job:b']))).toEqual({
      status: 'pending',
      runAt: { $lte: T0 },
      $nor: [{ concurrencyKey: { $in: ['job:a', 'job:b'] }, overlap: 'queue' }],
    });
    expect(Object.keys(CLAIM_ORDER)).toEqual(['priority', 'runAt', 'createdAt', '_id']);
    expect(claimUpdate('worker-1', T0, 30_000)).toEqual({
      $set: { status: 'running', workerId: 'worker-1', startedAt: T0, leaseUntil: at(30_000) },
    });
  });

  it('look up dedupe keys and gates with the partial index condition, so the index serves them', () => {
    expect(dedupeKeyFilter('slot:1')).toEqual({ dedupeKey: { $eq: 'slot:1', $type: 'string' } });
    expect(activeKeyFilter('job:1')).toEqual({ activeKey: { $eq: 'job:1', $exists: true } });
  });

  it('end a pending run with its error, its unfinished tasks ended too, and take it out of the active gate', () => {
    expect(endPendingUpdate('cancelled', T0, { code: 'cancelled', message: 'cancelled by ops' })).toEqual([
      {
        $set: {
          status: { $literal: 'cancelled' },
          finishedAt: { $literal: T0 },
          error: { $literal: { code: 'cancelled', message: 'cancelled by ops' } },
          tasks: endedTasks('cancelled'),
        },
      },
      { $unset: 'activeKey' },
    ]);
  });

  it('end only the tasks still pending or running, keeping every other field of each', () => {
    expect(endedTasks('skipped')).toEqual({
      $map: {
        input: '$tasks',
        as: 'task',
        in: {
          $cond: [
            { $in: ['$$task.status', ['pending', 'running']] },
            { $mergeObjects: ['$$task', { status: { $literal: 'skipped' } }] },
            '$$task',
          ],
        },
      },
    });
  });
});

describe('finishPipeline', () => {
  it('computes durationMs from the stored startedAt and keeps every given value literal', () => {
    const [set, unset] = finishPipeline({
      now: at(2250),
      status: 'failed',
      result: { rows: 3 },
      error: { code: 'error', message: '$startedAt is not a field path here' },
      followUp: null,
    });
    expect(set?.$set.durationMs).toEqual({
      $cond: [
        { $eq: [{ $type: '$startedAt' }, 'date'] },
        { $max: [0, { $subtract: [{ $literal: at(2250) }, '$startedAt'] }] },
        null,
      ],
    });
    expect(set?.$set.error).toEqual({
      $literal: { code: 'error', message: '$startedAt is not a field path here' },
    });
    expect(set?.$set.result).toEqual({ $literal: '{"rows":3}' });
    expect(set?.$set.status).toEqual({ $literal: 'failed' });
    expect(set?.$set.leaseUntil).toEqual({ $literal: null });
    expect(set?.$set.settlement).toEqual({ $literal: { since: at(2250), followUp: null } });
    expect(unset).toEqual({ $unset: 'activeKey' });
  });

  it('writes the tasks given, else ends the stored ones; logs only when given; and carries the follow-up retry in the settlement', () => {
    const followUp = encodeNewRun(newRun({ trigger: 'retry', dedupeKey: 'retry:r1' }), 'retry-id');
    const [kept] = finishPipeline({ now: T0, status: 'succeeded', result: null, error: null, followUp });
    expect(kept?.$set.tasks).toEqual(endedTasks('succeeded'));
    expect(kept?.$set).not.toHaveProperty('logs');
    expect(kept?.$set.settlement.$literal.followUp._id).toBe('retry-id');
    const [given] = finishPipeline({
      now: T0,
      status: 'succeeded',
      result: null,
      error: null,
      tasks: [],
      logs: [{ at: T0, level: 'info', message: 'done' }],
      followUp: null,
    });
    expect(given?.$set.tasks).toEqual({ $literal: [] });
    expect(given?.$set.logs).toEqual({ $literal: [{ at: T0, level: 'info', message: 'done' }] });
  });
});

describe('bookkeepingUpdate', () => {
  const finished = (status: 'succeeded' | 'failed' | 'cancelled') => ({
    ...encodeNewRun(newRun({ jobId: 'job-1', status, startedAt: T0, durationMs: 500 }), 'run-1'),
    error: status === 'failed' ? { code: 'error', message: 'disk full' } : null,
  });

  const job = (overrides: Record<string, unknown> = {}) => ({
    _id: 'job-1',
    enabled: true,
    pausedNote: null,
    runCount: 4,
    errorCount: 1,
    consecutiveFailures: 1,
    countedRunIds: ['older'],
    version: 3,
    ...overrides,
  });
  const apply = (update: Document[], doc: Document) => new Aggregator(update).run([doc])[0] as Document;

  it('counts a run once: the filter skips a job that already counted it', () => {
    const { filter, update } = bookkeepingUpdate(finished('failed'));
    expect(filter).toEqual({ _id: 'job-1', countedRunIds: { $ne: 'run-1' } });
    expect(new Query(filter).test(job())).toBe(true);
    expect(new Query(filter).test(job({ countedRunIds: ['run-1'] }))).toBe(false);
    expect(apply(update, job())).toMatchObject({
      lastRunAt: T0,
      lastRunId: 'run-1',
      lastStatus: 'failed',
      lastDurationMs: 500,
      lastError: 'disk full',
      runCount: 5,
      errorCount: 2,
      countedRunIds: ['older', 'run-1'],
      // Not counted without the settlement's flag (a failure that will be retried).
      consecutiveFailures: 1,
    });
  });

  it('clears lastError and the failure count on success and leaves them alone on cancel', () => {
    expect(apply(bookkeepingUpdate(finished('succeeded')).update, job({ lastError: 'x' }))).toMatchObject({
      lastError: null,
      errorCount: 1,
      consecutiveFailures: 0,
    });
    const cancelled = apply(bookkeepingUpdate(finished('cancelled')).update, job({ lastError: 'x' }));
    expect(cancelled).toMatchObject({ lastError: 'x', consecutiveFailures: 1 });
  });

  it('keeps every counted run id until its settlement is removed: no window a late repair can miss', () => {
    const ids = Array.from({ length: 200 }, (_, index) => `r${index}`);
    const after = apply(bookkeepingUpdate(finished('succeeded')).update, job({ countedRunIds: ids }));
    expect(after.countedRunIds).toEqual([...ids, 'run-1']);
    expect(new Query({ _id: 'job-1', countedRunIds: { $ne: 'r0' } }).test(after)).toBe(false);
  });

  it('a counted failure reaching autoPause pauses the job and puts its entry in the job, in one write', () => {
    const run = {
      ...finished('failed'),
      finishedAt: T0,
      settlement: { since: T0, followUp: null, counted: true, pauseAuditId: 'a1' },
    };
    const { update } = bookkeepingUpdate(run);
    const paused = apply(update, job({ autoPause: { afterFailures: 2 }, pausedNote: 'old', nextRunAt: T0 }));
    expect(paused).toMatchObject({
      enabled: false,
      nextRunAt: null,
      consecutiveFailures: 2,
      pausedNote: 'paused automatically after 2 failed runs in a row',
      version: 4,
      updatedAt: T0,
      auditOutbox: [
        {
          _id: 'a1',
          at: T0,
          actor: null,
          action: 'paused',
          before: { enabled: true, pausedNote: 'old' },
          after: { enabled: false, pausedNote: 'paused automatically after 2 failed runs in a row' },
        },
      ],
    });
    expect(paused).not.toHaveProperty('_pause');
    const below = apply(update, job({ autoPause: { afterFailures: 3 } }));
    expect(below).toMatchObject({ enabled: true, consecutiveFailures: 2, version: 3 });
    expect(below).not.toHaveProperty('auditOutbox');
    const alreadyPaused = apply(update, job({ enabled: false, autoPause: { afterFailures: 1 } }));
    expect(alreadyPaused).toMatchObject({ enabled: false, version: 3 });
    expect(alreadyPaused).not.toHaveProperty('auditOutbox');
    // A job written before auto-pause existed has no count and no policy.
    const legacy = apply(update, job({ consecutiveFailures: undefined }));
    expect(legacy).toMatchObject({ enabled: true, consecutiveFailures: 1 });
  });
});

describe('runListQuery', () => {
  it('combines every filter and asks for one extra run to know whether a next page exists', () => {
    const query = runListQuery({
      tenantIds: ['acme'],
      statuses: ['failed'],
      jobId: 'job-1',
      executor: 'mail.send',
      triggers: ['manual'],
      since: at(-1000),
      until: T0,
      limit: 10,
    });
    expect(query).toEqual({
      filter: {
        $and: [
          { tenantId: { $in: ['acme'] } },
          { status: { $in: ['failed'] } },
          { jobId: 'job-1' },
          { executor: 'mail.send' },
          { trigger: { $in: ['manual'] } },
          { createdAt: { $gte: at(-1000) } },
          { createdAt: { $lt: T0 } },
        ],
      },
      sort: { createdAt: -1, _id: -1 },
      limit: 11,
    });
    // Staged runs (a firing not yet decided) are never listed.
    expect(runListQuery({ limit: 5 }).filter).toEqual({ $and: [{ status: { $ne: 'staged' } }] });
  });

  it('continues strictly after the cursor position, ties on createdAt broken by id', () => {
    const cursor = encodeRunCursor({ createdAt: T0.getTime(), id: 'run-9' });
    expect(runListQuery({ limit: 10, cursor }).filter).toEqual({
      $and: [
        { status: { $ne: 'staged' } },
        { $or: [{ createdAt: { $lt: T0 } }, { createdAt: T0, _id: { $lt: 'run-9' } }] },
      ],
    });
  });

  it('rejects a cursor it did not issue with a ValidationError on cursor', () => {
    expect(() => runListQuery({ limit: 10, cursor: 'not a cursor' })).toThrow(ValidationError);
  });
});

describe('report pipelines', () => {
  it('count terminal runs per UTC day and status within [from, to)', () => {
    const [match, group, sort] = countRunsPipeline({ tenantIds: [null], from: at(-1000), to: T0 });
    expect(match).toEqual({
      $match: {
        finishedAt: { $gte: at(-1000), $lt: T0 },
        status: { $in: ['succeeded', 'failed', 'cancelled', 'skipped'] },
        tenantId: { $in: [null] },
      },
    });
    expect(group?.$group._id.day).toEqual({ $dateToString: { format: '%Y-%m-%d', date: '$finishedAt' } });
    expect(sort).toEqual({ $sort: { '_id.day': 1, '_id.status': 1 } });
  });

  it('count pending and running runs on the server', () => {
    expect(countActivePipeline(['acme'])).toEqual([
      { $match: { status: { $in: ['pending', 'running'] }, tenantId: { $in: ['acme'] } } },
      { $group: { _id: '$status', count: { $sum: 1 } } },
    ]);
  });

  it('summarise executors counting succeeded, failed and cancelled runs as finished, not skipped ones', () => {
    const [match, group] = executorSummaryPipeline(undefined);
    expect(match).toEqual({ $match: { status: { $ne: 'staged' } } });
    const finished = { $in: ['$status', ['succeeded', 'failed', 'cancelled']] };
    expect(group?.$group).toMatchObject({
      _id: '$executor',
      runCount: { $sum: { $cond: [finished, 1, 0] } },
      lastFinishedAt: { $max: { $cond: [finished, '$finishedAt', null] } },
    });
  });
});

describe('rate limits', () => {
  it('drop hits outside (now - window, now], then append now only below the limit', () => {
    const expiresAt = at(3_600_000);
    const [window, decide, append] = rateLimitPipeline({ limit: 2, windowMs: 1000, now: T0, expiresAt });
    expect(window?.$set.hits.$filter.cond).toEqual({ $gt: ['$$hit', T0.getTime() - 1000] });
    expect(decide).toEqual({ $set: { allowed: { $lt: [{ $size: '$hits' }, 2] } } });
    expect(append?.$set.hits).toEqual({
      $cond: ['$allowed', { $concatArrays: ['$hits', [T0.getTime()]] }, '$hits'],
    });
    expect(append?.$set.expiresAt).toEqual({ $literal: expiresAt });
  });

  it('tell a denied caller how long until the blocking hit leaves the window', () => {
    const t = T0.getTime();
    expect(retryAfterMs([t, t + 100], 2, 1000, at(200))).toBe(800);
    expect(retryAfterMs([t + 100, t], 2, 1000, at(999))).toBe(1);
    expect(retryAfterMs([t + 100, t + 1000], 2, 1000, at(1050))).toBe(50);
  });
});
