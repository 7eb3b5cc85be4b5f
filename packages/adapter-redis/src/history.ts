import { decodeRunCursor, type Run, type RunFilter, type RunPage, ValidationError } from '@cronkeeper/core';
import { execPipeline, type RedisClientLike } from './client.js';
import { decodeRun } from './codec.js';
import { historyMember, idOfMember, type KeyLayout, sortableMs, tenantToken } from './keys.js';
import { newestBefore } from './newest-before.js';

const BATCH = 100;
/**
 * Most runs one page reads. A selective filter on a large index (a rare trigger among many runs)
 * would otherwise read the whole history in one call; past this, the page ends early, holding
 * fewer runs than asked (maybe none), with a cursor to read on from where it stopped.
 */
export const SCAN_BUDGET = 2000;
const ID_PATTERN = /^[A-Za-z0-9_-]{1,100}$/;

/** Opaque to callers: base64url of `[createdAt ms, id]`. */
export function encodeCursor(run: Run): string {
  return Buffer.from(JSON.stringify([run.createdAt.getTime(), run.id]), 'utf8').toString('base64url');
}

/** The history member a cursor stops before, or a `ValidationError` on `cursor`. */
export function decodeCursor(cursor: string): string {
  // Core bounds every field (an instant in range, an id of a safe shape); ids here are narrower.
  const { createdAt, id } = decodeRunCursor(cursor);
  if (!ID_PATTERN.test(id))
    throw ValidationError.field('cursor', 'is not a cursor returned by a previous page');
  return historyMember(new Date(createdAt), id);
}

/** One history index walked newest first, a batch at a time (keyset paging on the member). */
class IndexWalk {
  #buffer: string[] = [];
  #upper: string;
  #done = false;

  constructor(
    readonly key: string,
    upper: string,
    private readonly lower: string,
  ) {
    this.#upper = upper;
  }

  get head(): string | undefined {
    return this.#buffer[0];
  }

  get needsFill(): boolean {
    return !this.#done && this.#buffer.length === 0;
  }

  /** Queue the next batch's read on `pipeline`; `fill` takes its reply. */
  request(pipeline: ReturnType<RedisClientLike['pipeline']>): void {
    pipeline.call('zrevrangebylex', this.key, this.#upper, this.lower, 'LIMIT', 0, BATCH);
  }

  fill(reply: unknown): void {
    const members = (reply as string[]) ?? [];
    this.#buffer = members;
    if (members.length < BATCH) this.#done = true;
    const last = members[members.length - 1];
    if (last !== undefined) this.#upper = `(${last}`;
  }

  shift(): string | undefined {
    return this.#buffer.shift();
  }
}

function lowerOf(filter: RunFilter): string {
  return filter.since ? `[${sortableMs(filter.since.getTime())}` : '-';
}

function upperOf(filter: RunFilter): string {
  const bounds: string[] = [];
  if (filter.until) bounds.push(sortableMs(filter.until.getTime()));
  if (filter.cursor) bounds.push(decodeCursor(filter.cursor));
  if (bounds.length === 0) return '+';
  return `(${bounds.sort()[0]}`;
}

function matches(run: Run, filter: RunFilter): boolean {
  if (filter.tenantIds && !filter.tenantIds.includes(run.tenantId)) return false;
  if (filter.statuses && !filter.statuses.includes(run.status)) return false;
  if (filter.jobId !== undefined && run.jobId !== filter.jobId) return false;
  if (filter.executor !== undefined && run.executor !== filter.executor) return false;
  if (filter.triggers && !filter.triggers.includes(run.trigger)) return false;
  const created = run.createdAt.getTime();
  if (filter.since && created < filter.since.getTime()) return false;
  if (filter.until && created >= filter.until.getTime()) return false;
  return true;
}

/** The candidate index sets for a filter: each option is a list of keys whose union covers it. */
function indexOptions(keys: KeyLayout, filter: RunFilter): string[][] {
  const options: string[][] = [];
  if (filter.jobId !== undefined) options.push([keys.historyOfJob(filter.jobId)]);
  if (filter.executor !== undefined) options.push([keys.historyOfExecutor(filter.executor)]);
  if (filter.statuses)
    options.push([...new Set(filter.statuses)].map((status) => keys.historyOfStatus(status)));
  if (filter.tenantIds)
    options.push(
      [...new Set(filter.tenantIds.map(tenantToken))].map((tenant) => keys.historyOfTenant(tenant)),
    );
  options.push([keys.history]);
  return options;
}

/**
 * One page of runs, newest first. Picks the smallest index covering the filter (by `ZCARD`),
 * walks it (or the union of its per-value sets, merged) in `<createdAt>:<id>` order between the
 * bounds from `since`, `until` and the cursor, and checks the other conditions on the runs read.
 */
export async function listRunsPage(
  client: RedisClientLike,
  keys: KeyLayout,
  filter: RunFilter,
): Promise<RunPage> {
  const lower = lowerOf(filter);
  const upper = upperOf(filter);
  if (filter.limit <= 0 || filter.statuses?.length === 0 || filter.tenantIds?.length === 0)
    return { items: [], nextCursor: null };

  const options = indexOptions(keys, filter);
  const sizing = client.pipeline();
  for (const key of options.flat()) sizing.call('zcard', key);
  const sizes = (await execPipeline(sizing)) as number[];
  let offset = 0;
  let best = options[0] as string[];
  let bestSize = Number.POSITIVE_INFINITY;
  for (const option of options) {
    const size = sizes.slice(offset, offset + option.length).reduce((sum, count) => sum + Number(count), 0);
    offset += option.length;
    if (size < bestSize) {
      best = option;
      bestSize = size;
    }
  }

  const walks = best.map((key) => new IndexWalk(key, upper, lower));
  const items: Run[] = [];
  const wanted = filter.limit + 1;
  let scanned = 0;
  let lastScanned: Run | null = null;
  while (items.length < wanted) {
    if (scanned >= SCAN_BUDGET) {
      const more = walks.some((walk) => walk.head !== undefined || walk.needsFill);
      if (!more || !lastScanned) return { items: items.slice(0, filter.limit), nextCursor: null };
      return endOfBudget(client, keys, filter, items, lastScanned);
    }
    const empty = walks.filter((walk) => walk.needsFill);
    if (empty.length > 0) {
      const reads = client.pipeline();
      for (const walk of empty) walk.request(reads);
      const replies = await execPipeline(reads);
      for (const [index, walk] of empty.entries()) walk.fill(replies[index]);
    }
    const ids: string[] = [];
    while (ids.length < BATCH) {
      let newest: IndexWalk | null = null;
      for (const walk of walks) {
        const head = walk.head;
        if (head !== undefined && (newest === null || head > (newest.head as string))) newest = walk;
      }
      if (!newest) break;
      ids.push(idOfMember(newest.shift() as string));
      if (newest.needsFill) break;
    }
    if (ids.length === 0) break;
    const reads = client.pipeline();
    for (const id of ids) reads.call('hgetall', keys.run(id));
    scanned += ids.length;
    for (const reply of await execPipeline(reads)) {
      const run = decodeRun(reply);
      if (run) lastScanned = run;
      if (run && matches(run, filter)) items.push(run);
    }
  }
  const page = items.slice(0, filter.limit);
  const last = page[page.length - 1];
  return { items: page, nextCursor: items.length > filter.limit && last ? encodeCursor(last) : null };
}

/**
 * A page that ran out of scan budget ends with a cursor at the last run it looked at, so the next
 * page reads on from there. For a tenant-scoped listing that run may be another tenant's (the
 * walked index can be shared, e.g. by executor or status), and a cursor naming it would tell the
 * caller its id and creation time. The page then ends instead at the caller's newest run older
 * than that point, found in the caller's own history indexes: every run the shared index holds in
 * between belongs to someone else, so none the caller may see is skipped. That run is checked
 * against the filter here, since the cursor leaves it out of the next page.
 */
async function endOfBudget(
  client: RedisClientLike,
  keys: KeyLayout,
  filter: RunFilter,
  items: Run[],
  lastScanned: Run,
): Promise<RunPage> {
  const visible = (run: Run) => !filter.tenantIds || filter.tenantIds.includes(run.tenantId);
  let stop: Run | null = lastScanned;
  if (!visible(lastScanned)) {
    const own = [...new Set((filter.tenantIds ?? []).map(tenantToken))].map((token) =>
      keys.historyOfTenant(token),
    );
    stop = await newestBefore(
      client,
      own,
      historyMember(lastScanned.createdAt, lastScanned.id),
      lowerOf(filter),
      async (member) => decodeRun(await client.call('hgetall', keys.run(idOfMember(member)))),
    );
    if (stop && matches(stop, filter)) items.push(stop);
  }
  const page = items.slice(0, filter.limit);
  if (items.length > filter.limit)
    return { items: page, nextCursor: encodeCursor(page[page.length - 1] as Run) };
  return { items: page, nextCursor: stop ? encodeCursor(stop) : null };
}
