import {
  compareCodePoints,
  decodeRunCursor,
  type ExecutorSummary,
  encodeRunCursor,
  isTerminal,
  type Run,
  type RunCountRow,
  type RunFilter,
  type RunPage,
  type TenantIds,
} from '@cronkeeper/core';
import { copy } from './copy.js';

/** True when `tenantId` passes the filter (absent filter: every tenant). */
export function inTenants(tenantIds: TenantIds | undefined, tenantId: string | null): boolean {
  return tenantIds === undefined || tenantIds.includes(tenantId);
}

/** Newest first: `createdAt` desc, then `id` desc. */
function newestFirst(a: Run, b: Run): number {
  const byTime = b.createdAt.getTime() - a.createdAt.getTime();
  if (byTime !== 0) return byTime;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** One page of runs matching `filter`, as copies. */
export function listRunsPage(runs: Iterable<Run>, filter: RunFilter): RunPage {
  const after = filter.cursor ? decodeRunCursor(filter.cursor) : null;
  const matches: Run[] = [];
  for (const run of runs) {
    if (!inTenants(filter.tenantIds, run.tenantId)) continue;
    if (filter.statuses && !filter.statuses.includes(run.status)) continue;
    if (filter.jobId !== undefined && run.jobId !== filter.jobId) continue;
    if (filter.executor !== undefined && run.executor !== filter.executor) continue;
    if (filter.triggers && !filter.triggers.includes(run.trigger)) continue;
    const created = run.createdAt.getTime();
    if (filter.since && created < filter.since.getTime()) continue;
    if (filter.until && created >= filter.until.getTime()) continue;
    if (after && (created > after.createdAt || (created === after.createdAt && run.id >= after.id))) continue;
    matches.push(run);
  }
  matches.sort(newestFirst);
  const items = matches.slice(0, Math.max(0, filter.limit));
  const last = items[items.length - 1];
  const more = matches.length > items.length && last !== undefined;
  return {
    items: items.map((run) => copy(run)),
    nextCursor: more ? encodeRunCursor({ createdAt: last.createdAt.getTime(), id: last.id }) : null,
  };
}

/** Terminal runs with `from <= finishedAt < to`, per UTC day and status, sorted by day then status. */
export function countRunsByDay(
  runs: Iterable<Run>,
  query: { tenantIds?: TenantIds; from: Date; to: Date },
): RunCountRow[] {
  const counts = new Map<string, RunCountRow>();
  for (const run of runs) {
    if (!isTerminal(run.status) || run.finishedAt === null || !inTenants(query.tenantIds, run.tenantId))
      continue;
    const finished = run.finishedAt.getTime();
    if (finished < query.from.getTime() || finished >= query.to.getTime()) continue;
    const day = run.finishedAt.toISOString().slice(0, 10);
    const key = `${day} ${run.status}`;
    const row = counts.get(key);
    if (row) row.count += 1;
    else counts.set(key, { day, status: run.status, count: 1 });
  }
  return [...counts.values()].sort((a, b) => (a.day + a.status < b.day + b.status ? -1 : 1));
}

/** Pending and running runs. */
export function countActiveRuns(
  runs: Iterable<Run>,
  tenantIds: TenantIds | undefined,
): { pending: number; running: number } {
  let pending = 0;
  let running = 0;
  for (const run of runs) {
    if (!inTenants(tenantIds, run.tenantId)) continue;
    if (run.status === 'pending') pending += 1;
    else if (run.status === 'running') running += 1;
  }
  return { pending, running };
}

const FINISHED: readonly Run['status'][] = ['succeeded', 'failed', 'cancelled'];

/** One row per executor with runs: finished and failed counts, running now, last finished run. */
export function summarizeExecutors(runs: Iterable<Run>, tenantIds: TenantIds | undefined): ExecutorSummary[] {
  const rows = new Map<string, ExecutorSummary>();
  for (const run of runs) {
    if (!inTenants(tenantIds, run.tenantId)) continue;
    let row = rows.get(run.executor);
    if (!row) {
      row = { executor: run.executor, runCount: 0, errorCount: 0, running: 0, lastRun: null };
      rows.set(run.executor, row);
    }
    if (run.status === 'running') row.running += 1;
    if (!FINISHED.includes(run.status) || run.finishedAt === null) continue;
    row.runCount += 1;
    if (run.status === 'failed') row.errorCount += 1;
    const last = row.lastRun;
    if (!last || (last.finishedAt as Date).getTime() < run.finishedAt.getTime()) row.lastRun = run;
  }
  return [...rows.values()]
    .sort((a, b) => compareCodePoints(a.executor, b.executor))
    .map((row) => ({ ...row, lastRun: row.lastRun ? copy(row.lastRun) : null }));
}
