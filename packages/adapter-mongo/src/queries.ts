import {
  decodeRunCursor,
  type JsonValue,
  OVERLAP_SKIP_ERROR,
  type RunError,
  type RunFilter,
  type RunLogLine,
  type RunProgress,
  type RunStatus,
  type RunTask,
  type TenantIds,
} from '@cronkeeper/core';
import type { Document } from 'mongodb';
import {
  copyLogs,
  encodeResult,
  encodeRunTasks,
  numberOrNull,
  type RunDocument,
  type SettlementDocument,
} from './documents.js';

/**
 * The query documents and aggregation pipelines the store sends, built by pure functions so each
 * can be read (and unit-tested) on its own.
 */

/**
 * The condition every read of runs by something other than their status carries: staged runs
 * (see firing.ts) are not runs until released.
 */
export const NOT_STAGED = { $ne: 'staged' } as const;

/** Statuses a run never leaves. */
export const TERMINAL_STATUSES: RunStatus[] = ['succeeded', 'failed', 'cancelled', 'skipped'];
/** Statuses that count as a finished run on dashboards (skipped slots never ran). */
export const FINISHED_STATUSES: RunStatus[] = ['succeeded', 'failed', 'cancelled'];

/** Claim order: priority, then runAt, then createdAt; the id settles exact ties. */
export const CLAIM_ORDER = { priority: 1, runAt: 1, createdAt: 1, _id: 1 } as const;
/** History order: newest first. */
export const NEWEST_FIRST = { createdAt: -1, _id: -1 } as const;

/** The error of a run skipped by the overlap policy. */
export const OVERLAP_ERROR: RunError = OVERLAP_SKIP_ERROR;

/** Matches records of these tenants (`null` = global); no condition when the filter is absent. */
export function tenantFilter(tenantIds: TenantIds | undefined): Document {
  return tenantIds === undefined ? {} : { tenantId: { $in: [...tenantIds] } };
}

/** Runs that make `createRun({ rejectIfActive })` refuse: running, or pending and due. */
export function activeRunFilter(concurrencyKey: string, now: Date): Document {
  return { concurrencyKey, $or: [{ status: 'running' }, { status: 'pending', runAt: { $lte: now } }] };
}

/**
 * The run holding a dedupe key. The partial index's own condition is repeated: the query planner
 * only uses a partial index for a query that visibly implies its filter.
 */
export function dedupeKeyFilter(dedupeKey: string): Document {
  return { dedupeKey: { $eq: dedupeKey, $type: 'string' } };
}

/** The run holding the `rejectIfActive` gate of a concurrency key (see {@link dedupeKeyFilter}). */
export function activeKeyFilter(concurrencyKey: string): Document {
  return { activeKey: { $eq: concurrencyKey, $exists: true } };
}

/**
 * Pending runs that are due, minus the `queue` runs of keys this claim call found busy (`skip`
 * runs of those keys stay in, to be skipped in the same call).
 */
export function claimFilter(now: Date, busyKeys: ReadonlySet<string>): Document {
  const filter: Document = { status: 'pending', runAt: { $lte: now } };
  if (busyKeys.size > 0) filter.$nor = [{ concurrencyKey: { $in: [...busyKeys] }, overlap: 'queue' }];
  return filter;
}

/** Pending → running for `workerId`, with a lease of `leaseMs`. */
export function claimUpdate(workerId: string, now: Date, leaseMs: number): Document {
  return {
    $set: { status: 'running', workerId, startedAt: now, leaseUntil: new Date(now.getTime() + leaseMs) },
  };
}

/**
 * The stored tasks with each one still pending or running given `status`: a run that ends leaves
 * no task unfinished (a cancelled one-off shows its task cancelled, not pending).
 */
export function endedTasks(status: RunStatus): Document {
  return {
    $map: {
      input: '$tasks',
      as: 'task',
      in: {
        $cond: [
          { $in: ['$$task.status', ['pending', 'running']] },
          { $mergeObjects: ['$$task', { status: literal(status) }] },
          '$$task',
        ],
      },
    },
  };
}

/** Pending → a terminal state without running (cancelled, skipped): leaves the active gate. */
export function endPendingUpdate(status: 'cancelled' | 'skipped', now: Date, error: RunError): Document[] {
  return [
    {
      $set: {
        status: literal(status),
        finishedAt: literal(now),
        error: literal({ code: error.code, message: error.message }),
        tasks: endedTasks(status),
      },
    },
    { $unset: 'activeKey' },
  ];
}

/** What a finishing write sets. */
export interface Finish {
  now: Date;
  status: 'succeeded' | 'failed' | 'cancelled';
  result: JsonValue | null;
  error: RunError | null;
  tasks?: RunTask[] | undefined;
  logs?: RunLogLine[] | undefined;
  /** The last progress reported; omitted to keep the stored one. */
  progress?: RunProgress | null | undefined;
  /** The retry, already encoded with its id. */
  followUp: RunDocument | null;
  /** A final failure, which `autoPause` counts. @default false */
  counted?: boolean;
  /** The id of the `paused` audit entry, should this finish pause the job. */
  pauseAuditId?: string;
}

/** Values in a pipeline `$set` are expressions: `$literal` keeps a `"$…"` string from being read as a field path. */
export function literal(value: unknown): Document {
  return { $literal: value };
}

/**
 * Running → terminal, as an update pipeline so `durationMs` is computed from the stored
 * `startedAt` in the same atomic write. Clears the lease, leaves the active gate, and records the
 * work left (job bookkeeping, follow-up) as `settlement`, removed once that work is done.
 */
export function finishPipeline(finish: Finish): Document[] {
  const settlement: SettlementDocument = { since: finish.now, followUp: finish.followUp };
  if (finish.counted) settlement.counted = true;
  if (finish.pauseAuditId !== undefined) settlement.pauseAuditId = finish.pauseAuditId;
  const set: Document = {
    status: literal(finish.status),
    finishedAt: literal(finish.now),
    durationMs: {
      $cond: [
        { $eq: [{ $type: '$startedAt' }, 'date'] },
        { $max: [0, { $subtract: [literal(finish.now), '$startedAt'] }] },
        null,
      ],
    },
    result: literal(encodeResult(finish.result)),
    error: literal(finish.error === null ? null : { code: finish.error.code, message: finish.error.message }),
    leaseUntil: literal(null),
    settlement: literal(settlement),
  };
  set.tasks = finish.tasks === undefined ? endedTasks(finish.status) : literal(encodeRunTasks(finish.tasks));
  if (finish.logs !== undefined) set.logs = literal(copyLogs(finish.logs));
  if (finish.progress !== undefined)
    set.progress = literal(
      finish.progress === null ? null : { percent: finish.progress.percent, note: finish.progress.note },
    );
  return [{ $set: set }, { $unset: 'activeKey' }];
}

/** The note of an automatic pause, as core's `autoPauseNote`, from the job's (new) count. */
const PAUSE_NOTE = {
  $concat: ['paused automatically after ', { $toString: '$consecutiveFailures' }, ' failed runs in a row'],
};

/**
 * The job's bookkeeping for a finished run, applied at most once: the filter skips a job that
 * already lists the run among the ids it counted, and the id stays listed until the run's
 * settlement is removed (see settlement.ts), so a repair after a crash cannot count it twice.
 * An update pipeline, so that the auto-pause decision reads the count it moves in the same atomic
 * write: a success resets `consecutiveFailures`, a counted (final) failure adds one, and reaching
 * `autoPause.afterFailures` while enabled pauses the job and puts its `paused` audit entry (id
 * `settlement.pauseAuditId`) in the job's `auditOutbox`, in that same write.
 */
export function bookkeepingUpdate(run: RunDocument): { filter: Document; update: Document[] } {
  const failed = run.status === 'failed';
  const counted = failed && run.settlement?.counted === true;
  const set: Document = {
    lastRunAt: literal(run.startedAt),
    lastRunId: literal(run._id),
    lastStatus: literal(run.status),
    lastDurationMs: literal(numberOrNull(run.durationMs)),
    runCount: { $add: ['$runCount', 1] },
    errorCount: { $add: ['$errorCount', failed ? 1 : 0] },
    // The filter leaves out a job that lists the id already: appending cannot repeat it.
    countedRunIds: { $concatArrays: [{ $ifNull: ['$countedRunIds', []] }, [literal(run._id)]] },
  };
  if (failed) set.lastError = literal(run.error?.message ?? 'failed');
  else if (run.status === 'succeeded') set.lastError = literal(null);
  const count = { $ifNull: ['$consecutiveFailures', 0] };
  if (run.status === 'succeeded') set.consecutiveFailures = literal(0);
  else if (counted) set.consecutiveFailures = { $add: [count, 1] };
  const update: Document[] = [{ $set: set }];
  if (counted && run.settlement?.pauseAuditId !== undefined) {
    const at = run.finishedAt ?? run.settlement.since;
    update.push(
      {
        $set: {
          _pause: {
            $and: [
              { $eq: ['$enabled', true] },
              { $ne: [{ $ifNull: ['$autoPause', null] }, null] },
              { $gte: ['$consecutiveFailures', '$autoPause.afterFailures'] },
            ],
          },
        },
      },
      {
        $set: {
          auditOutbox: {
            $cond: [
              '$_pause',
              {
                $concatArrays: [
                  { $ifNull: ['$auditOutbox', []] },
                  [
                    {
                      _id: literal(run.settlement.pauseAuditId),
                      at: literal(at),
                      actor: literal(null),
                      action: literal('paused'),
                      job: '$name',
                      tenantId: '$tenantId',
                      before: { enabled: true, pausedNote: { $ifNull: ['$pausedNote', null] } },
                      after: { enabled: false, pausedNote: PAUSE_NOTE },
                      note: PAUSE_NOTE,
                    },
                  ],
                ],
              },
              '$auditOutbox',
            ],
          },
          enabled: { $cond: ['$_pause', false, '$enabled'] },
          pausedNote: { $cond: ['$_pause', PAUSE_NOTE, '$pausedNote'] },
          nextRunAt: { $cond: ['$_pause', null, '$nextRunAt'] },
          version: { $cond: ['$_pause', { $add: ['$version', 1] }, '$version'] },
          updatedAt: { $cond: ['$_pause', literal(at), '$updatedAt'] },
        },
      },
      { $unset: '_pause' },
    );
  }
  return { filter: { _id: run.jobId, countedRunIds: { $ne: run._id } }, update };
}

/** The query, order and page size of one `listRuns` page (one extra run tells whether more follow). */
export function runListQuery(filter: RunFilter): {
  filter: Document;
  sort: typeof NEWEST_FIRST;
  limit: number;
} {
  const and: Document[] = [];
  if (filter.tenantIds !== undefined) and.push(tenantFilter(filter.tenantIds));
  and.push({ status: filter.statuses === undefined ? NOT_STAGED : { $in: [...filter.statuses] } });
  if (filter.jobId !== undefined) and.push({ jobId: filter.jobId });
  if (filter.executor !== undefined) and.push({ executor: filter.executor });
  if (filter.triggers !== undefined) and.push({ trigger: { $in: [...filter.triggers] } });
  if (filter.since !== undefined) and.push({ createdAt: { $gte: filter.since } });
  if (filter.until !== undefined) and.push({ createdAt: { $lt: filter.until } });
  if (filter.cursor) {
    const after = decodeRunCursor(filter.cursor);
    const createdAt = new Date(after.createdAt);
    and.push({ $or: [{ createdAt: { $lt: createdAt } }, { createdAt, _id: { $lt: after.id } }] });
  }
  return { filter: and.length === 0 ? {} : { $and: and }, sort: NEWEST_FIRST, limit: filter.limit + 1 };
}

/** Terminal runs with `from <= finishedAt < to`, grouped by UTC day and status. */
export function countRunsPipeline(query: { tenantIds?: TenantIds; from: Date; to: Date }): Document[] {
  return [
    {
      $match: {
        finishedAt: { $gte: query.from, $lt: query.to },
        status: { $in: TERMINAL_STATUSES },
        ...tenantFilter(query.tenantIds),
      },
    },
    {
      $group: {
        _id: { day: { $dateToString: { format: '%Y-%m-%d', date: '$finishedAt' } }, status: '$status' },
        count: { $sum: 1 },
      },
    },
    { $sort: { '_id.day': 1, '_id.status': 1 } },
  ];
}

/** Pending and running runs, counted per status. */
export function countActivePipeline(tenantIds: TenantIds | undefined, concurrencyKey?: string): Document[] {
  const key = concurrencyKey === undefined ? {} : { concurrencyKey };
  return [
    { $match: { ...key, status: { $in: ['pending', 'running'] }, ...tenantFilter(tenantIds) } },
    { $group: { _id: '$status', count: { $sum: 1 } } },
  ];
}

/** Per executor: finished and failed counts, running now, and when the last finished run ended. */
export function executorSummaryPipeline(tenantIds: TenantIds | undefined): Document[] {
  const finished = { $in: ['$status', FINISHED_STATUSES] };
  return [
    { $match: { status: NOT_STAGED, ...tenantFilter(tenantIds) } },
    {
      $group: {
        _id: '$executor',
        runCount: { $sum: { $cond: [finished, 1, 0] } },
        errorCount: { $sum: { $cond: [{ $eq: ['$status', 'failed'] }, 1, 0] } },
        running: { $sum: { $cond: [{ $eq: ['$status', 'running'] }, 1, 0] } },
        lastFinishedAt: { $max: { $cond: [finished, '$finishedAt', null] } },
      },
    },
    { $sort: { _id: 1 } },
  ];
}

/**
 * One rate-limit hit as an update pipeline on the key's document (upserted): drop the hits that
 * left the window `(now - windowMs, now]`, then append `now` only if fewer than `limit` remain.
 * A single-document update, so concurrent hits on one key are serialised by the server.
 */
export function rateLimitPipeline(input: {
  limit: number;
  windowMs: number;
  now: Date;
  expiresAt: Date;
}): Document[] {
  const now = input.now.getTime();
  return [
    {
      $set: {
        hits: {
          $filter: {
            input: { $ifNull: ['$hits', []] },
            as: 'hit',
            cond: { $gt: ['$$hit', now - input.windowMs] },
          },
        },
      },
    },
    { $set: { allowed: { $lt: [{ $size: '$hits' }, input.limit] } } },
    {
      $set: {
        hits: { $cond: ['$allowed', { $concatArrays: ['$hits', [now]] }, '$hits'] },
        expiresAt: literal(input.expiresAt),
      },
    },
  ];
}

/**
 * Take back one hit at `now` (a hit counted by a multi-key consume whose later key was full):
 * removes a single occurrence, since another caller may have hit the same key in the same ms.
 */
export function unhitPipeline(now: Date): Document[] {
  const at = now.getTime();
  const hits = { $ifNull: ['$hits', []] };
  return [
    {
      $set: {
        hits: {
          $let: {
            vars: { drop: { $indexOfArray: [hits, at] } },
            in: {
              $map: {
                input: {
                  $filter: {
                    input: { $range: [0, { $size: hits }] },
                    as: 'index',
                    cond: { $ne: ['$$index', '$$drop'] },
                  },
                },
                as: 'index',
                in: { $arrayElemAt: [hits, '$$index'] },
              },
            },
          },
        },
      },
    },
  ];
}

/** Wait until a denied hit could pass: until the hit `limit` places from the newest leaves the window. */
export function retryAfterMs(hits: readonly number[], limit: number, windowMs: number, now: Date): number {
  const sorted = [...hits].sort((a, b) => a - b);
  const blocking = sorted[sorted.length - limit];
  return blocking === undefined ? 0 : Math.max(0, blocking + windowMs - now.getTime());
}
