import {
  type ExecutorSummary,
  encodeRunCursor,
  type RunCountRow,
  type RunFilter,
  type RunPage,
  type RunStatus,
  type TenantIds,
} from '@cronkeeper/core';
import type { Collection } from 'mongodb';
import { asNumber, decodeRun, type JobDocument, type RunDocument } from './documents.js';
import {
  countActivePipeline,
  countRunsPipeline,
  executorSummaryPipeline,
  FINISHED_STATUSES,
  runListQuery,
  tenantFilter,
} from './queries.js';

/**
 * The admin reads: history pages, counts and dashboards, computed by indexed queries and the
 * aggregation pipeline on the server, never by loading the history into the process.
 */

/** One page of runs, newest first, keyset-paged on `(createdAt, _id)`. */
export async function listRunsPage(runs: Collection<RunDocument>, filter: RunFilter): Promise<RunPage> {
  // Built first so a bad cursor is a ValidationError whatever the limit.
  const query = runListQuery(filter);
  if (filter.limit <= 0) return { items: [], nextCursor: null };
  const docs = await runs.find(query.filter).sort(query.sort).limit(query.limit).toArray();
  const items = docs.slice(0, filter.limit).map(decodeRun);
  const last = items[items.length - 1];
  const more = docs.length > filter.limit && last !== undefined;
  return {
    items,
    nextCursor: more ? encodeRunCursor({ createdAt: last.createdAt.getTime(), id: last.id }) : null,
  };
}

/** Terminal runs per UTC day and status with `from <= finishedAt < to`. */
export async function countRunsByDay(
  runs: Collection<RunDocument>,
  query: { tenantIds?: TenantIds; from: Date; to: Date },
): Promise<RunCountRow[]> {
  if (query.to.getTime() <= query.from.getTime()) return [];
  const rows = await runs.aggregate(countRunsPipeline(query)).toArray();
  return rows.map((row) => ({
    day: String(row._id.day),
    status: row._id.status as RunStatus,
    count: asNumber(row.count),
  }));
}

/** Pending and running runs now. */
export async function countActiveRuns(
  runs: Collection<RunDocument>,
  tenantIds: TenantIds | undefined,
  concurrencyKey?: string,
): Promise<{ pending: number; running: number }> {
  const counts = { pending: 0, running: 0 };
  for (const row of await runs.aggregate(countActivePipeline(tenantIds, concurrencyKey)).toArray())
    counts[row._id as 'pending' | 'running'] = asNumber(row.count);
  return counts;
}

/** Per executor with runs: finished and failed counts, running now, and the last finished run. */
export async function summarizeExecutors(
  runs: Collection<RunDocument>,
  tenantIds: TenantIds | undefined,
): Promise<ExecutorSummary[]> {
  const rows = await runs.aggregate(executorSummaryPipeline(tenantIds)).toArray();
  const summaries: ExecutorSummary[] = [];
  for (const row of rows) {
    // The group found when its last finished run ended; fetch that one run by it.
    const last =
      row.lastFinishedAt instanceof Date
        ? await runs.findOne(
            {
              executor: row._id,
              status: { $in: FINISHED_STATUSES },
              finishedAt: row.lastFinishedAt,
              ...tenantFilter(tenantIds),
            },
            { sort: { _id: -1 } },
          )
        : null;
    summaries.push({
      executor: String(row._id),
      runCount: asNumber(row.runCount),
      errorCount: asNumber(row.errorCount),
      running: asNumber(row.running),
      lastRun: last ? decodeRun(last) : null,
    });
  }
  return summaries;
}

/** The earliest `nextRunAt` of enabled jobs in these tenants, past ones included. */
export async function earliestJobRunAt(
  jobs: Collection<JobDocument>,
  tenantIds: TenantIds | undefined,
): Promise<Date | null> {
  const doc = await jobs.findOne(
    { enabled: true, nextRunAt: { $ne: null }, ...tenantFilter(tenantIds) },
    { sort: { nextRunAt: 1 } },
  );
  return doc?.nextRunAt ? new Date(doc.nextRunAt.getTime()) : null;
}
