import {
  compareCodePoints,
  type ExecutorSummary,
  type RunCountRow,
  type RunStatus,
  type TenantIds,
} from '@cronkeeper/core';
import { execPipeline, type RedisClientLike } from './client.js';
import { decodeRun } from './codec.js';
import { FINISHED_STATUSES, type KeyLayout, tenantToken } from './keys.js';

const DAY_MS = 86_400_000;

/** Tenant tokens to read: the filter's, or every tenant that has runs. */
async function tenantsOf(
  client: RedisClientLike,
  keys: KeyLayout,
  tenantIds: TenantIds | undefined,
): Promise<string[]> {
  if (tenantIds) return [...new Set(tenantIds.map(tenantToken))];
  return (await client.call('smembers', keys.tenants)) as string[];
}

/**
 * Terminal runs per UTC day and status with `from <= finishedAt < to`: one `ZCOUNT` per day and
 * status on the finished indexes (sorted by `finishedAt`), so the bounds are exact to the ms and
 * the cost does not depend on how many runs there are.
 */
export async function countRunsByDay(
  client: RedisClientLike,
  keys: KeyLayout,
  query: { tenantIds?: TenantIds; from: Date; to: Date },
): Promise<RunCountRow[]> {
  const from = query.from.getTime();
  const to = query.to.getTime();
  if (to <= from) return [];
  const tenants = query.tenantIds ? [...new Set(query.tenantIds.map(tenantToken))] : null;
  if (tenants?.length === 0) return [];
  const cells: { day: string; status: RunStatus }[] = [];
  const pipeline = client.pipeline();
  for (let dayStart = Math.floor(from / DAY_MS) * DAY_MS; dayStart < to; dayStart += DAY_MS) {
    const low = Math.max(from, dayStart);
    const high = Math.min(to, dayStart + DAY_MS);
    const day = new Date(dayStart).toISOString().slice(0, 10);
    for (const status of FINISHED_STATUSES) {
      for (const key of tenants
        ? tenants.map((tenant) => keys.finished(status, tenant))
        : [keys.finished(status)]) {
        pipeline.call('zcount', key, low, `(${high}`);
        cells.push({ day, status });
      }
    }
  }
  const counts = await execPipeline(pipeline);
  const rows = new Map<string, RunCountRow>();
  cells.forEach((cell, index) => {
    const count = Number(counts[index]);
    if (count === 0) return;
    const key = `${cell.day} ${cell.status}`;
    const row = rows.get(key);
    if (row) row.count += count;
    else rows.set(key, { ...cell, count });
  });
  return [...rows.values()].sort((a, b) => (a.day + a.status < b.day + b.status ? -1 : 1));
}

/** Pending and running runs: the sizes of the global indexes, or the per-tenant counters. */
export async function countActiveRuns(
  client: RedisClientLike,
  keys: KeyLayout,
  tenantIds: TenantIds | undefined,
  concurrencyKey?: string,
): Promise<{ pending: number; running: number }> {
  if (concurrencyKey !== undefined) return countActiveOfKey(client, keys, tenantIds, concurrencyKey);
  const pipeline = client.pipeline();
  if (!tenantIds) {
    pipeline.call('zcard', keys.pendingRuns);
    pipeline.call('zcard', keys.runningRuns);
    const [pending, running] = await execPipeline(pipeline);
    return { pending: Number(pending), running: Number(running) };
  }
  const tenants = [...new Set(tenantIds.map(tenantToken))];
  for (const tenant of tenants) pipeline.call('hmget', keys.active(tenant), 'pending', 'running');
  let pending = 0;
  let running = 0;
  for (const reply of await execPipeline(pipeline)) {
    const [p, r] = reply as (string | null)[];
    pending += Number(p ?? 0);
    running += Number(r ?? 0);
  }
  return { pending, running };
}

/** The pending and running runs of one concurrency key: set sizes, or each run's tenant when filtered. */
async function countActiveOfKey(
  client: RedisClientLike,
  keys: KeyLayout,
  tenantIds: TenantIds | undefined,
  concurrencyKey: string,
): Promise<{ pending: number; running: number }> {
  if (!tenantIds) {
    const pipeline = client.pipeline();
    pipeline.call('zcard', keys.pendingOfKey(concurrencyKey));
    pipeline.call('scard', keys.runningOfKey(concurrencyKey));
    const [pending, running] = await execPipeline(pipeline);
    return { pending: Number(pending), running: Number(running) };
  }
  const listing = client.pipeline();
  listing.call('zrange', keys.pendingOfKey(concurrencyKey), '0', '-1');
  listing.call('smembers', keys.runningOfKey(concurrencyKey));
  const [pendingIds, runningIds] = (await execPipeline(listing)) as [string[], string[]];
  const ids = [...pendingIds, ...runningIds];
  if (ids.length === 0) return { pending: 0, running: 0 };
  const lookup = client.pipeline();
  for (const id of ids) lookup.call('hmget', keys.run(id), '_tk', 'status');
  const wanted = new Set(tenantIds.map(tenantToken));
  const counts = { pending: 0, running: 0 };
  for (const reply of await execPipeline(lookup)) {
    const [token, status] = reply as [string | null, string | null];
    if (token === null || !wanted.has(token)) continue;
    if (status === 'pending' || status === 'running') counts[status] += 1;
  }
  return counts;
}

interface ExecutorRow {
  executor: string;
  runCount: number;
  errorCount: number;
  running: number;
  last: { finishedAt: number; runId: string } | null;
}

/**
 * Per-executor figures from the counters each transition keeps per tenant (`seen:`, `runs:`,
 * `errors:`, `running:` and `last:<executor>` fields): lifetime counts, like the job's own
 * `runCount`, so pruning history does not reset them.
 */
export async function summarizeExecutors(
  client: RedisClientLike,
  keys: KeyLayout,
  tenantIds: TenantIds | undefined,
): Promise<ExecutorSummary[]> {
  const tenants = await tenantsOf(client, keys, tenantIds);
  if (tenants.length === 0) return [];
  const pipeline = client.pipeline();
  for (const tenant of tenants) pipeline.call('hgetall', keys.executors(tenant));
  const rows = new Map<string, ExecutorRow>();
  const rowOf = (executor: string): ExecutorRow => {
    let row = rows.get(executor);
    if (!row) {
      row = { executor, runCount: 0, errorCount: 0, running: 0, last: null };
      rows.set(executor, row);
    }
    return row;
  };
  for (const reply of await execPipeline(pipeline)) {
    for (const [field, value] of fieldsOf(reply)) {
      const colon = field.indexOf(':');
      const kind = field.slice(0, colon);
      const row = rowOf(field.slice(colon + 1));
      if (kind === 'runs') row.runCount += Number(value);
      else if (kind === 'errors') row.errorCount += Number(value);
      else if (kind === 'running') row.running += Number(value);
      else if (kind === 'last') {
        const split = value.indexOf(':', 1);
        const finishedAt = Number(value.slice(0, split));
        if (!row.last || row.last.finishedAt < finishedAt)
          row.last = { finishedAt, runId: value.slice(split + 1) };
      }
    }
  }
  const sorted = [...rows.values()].sort((a, b) => compareCodePoints(a.executor, b.executor));
  const withLast = sorted.filter((row) => row.last !== null);
  const lastRuns = new Map<string, ExecutorSummary['lastRun']>();
  if (withLast.length > 0) {
    const reads = client.pipeline();
    for (const row of withLast) reads.call('hgetall', keys.run(row.last?.runId as string));
    const replies = await execPipeline(reads);
    for (const [index, row] of withLast.entries()) lastRuns.set(row.executor, decodeRun(replies[index]));
  }
  return sorted.map((row) => ({
    executor: row.executor,
    runCount: row.runCount,
    errorCount: row.errorCount,
    running: row.running,
    lastRun: lastRuns.get(row.executor) ?? null,
  }));
}

function fieldsOf(reply: unknown): [string, string][] {
  if (Array.isArray(reply)) {
    const pairs: [string, string][] = [];
    for (let index = 0; index + 1 < reply.length; index += 2)
      pairs.push([String(reply[index]), String(reply[index + 1])]);
    return pairs;
  }
  if (reply && typeof reply === 'object')
    return Object.entries(reply as Record<string, unknown>).map(([key, value]) => [key, String(value)]);
  return [];
}
