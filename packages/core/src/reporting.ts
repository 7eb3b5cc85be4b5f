import type {
  Dashboard,
  LastRunView,
  RunListFilter,
  RunsApi,
  SchedulerStats,
  TenantScope,
  TimelineDay,
} from './api.js';
import type { SchedulerContext } from './context.js';
import { DATE_TEXT_RULE, parseIsoDate } from './dates.js';
import { NotFoundError, storeCall, ValidationError } from './errors.js';
import { tenantIdsOf } from './jobs.js';
import { dashboardOptionsSchema, parseScope } from './operation-schemas.js';
import { scheduleOf } from './planning.js';
import type { RunFilter } from './store.js';
import type { Job, Run } from './types.js';
import { parse, runListSchema } from './validation.js';
import { jobAsSeenBy } from './views.js';

const DAY = 86_400_000;

/** Run history, read-only. */
export class Runs implements RunsApi {
  constructor(private readonly ctx: SchedulerContext) {}

  async get(id: string, options: TenantScope & { includeGlobal?: boolean } = {}): Promise<Run> {
    if (typeof id !== 'string' || id.length === 0 || id.length > 200)
      throw ValidationError.field('id', 'must be a run id');
    const scope = parseScope(options);
    await this.ctx.ready();
    const run = await storeCall('getRun', () => this.ctx.store.getRun(id));
    const visible =
      run &&
      (scope.tenantId === undefined ||
        run.tenantId === scope.tenantId ||
        (scope.includeGlobal === true && run.tenantId === null));
    if (!run || !visible) throw new NotFoundError('run', id);
    return run;
  }

  async list(filter: RunListFilter = {}): Promise<{ items: Run[]; nextCursor: string | null }> {
    const parsed = parse(runListSchema, filter);
    const query: RunFilter = { limit: parsed.limit ?? 50 };
    const tenantIds = tenantIdsOf(parsed);
    if (tenantIds) query.tenantIds = tenantIds;
    if (parsed.status !== undefined) query.statuses = ([] as Run['status'][]).concat(parsed.status);
    if (parsed.trigger !== undefined) query.triggers = ([] as Run['trigger'][]).concat(parsed.trigger);
    if (parsed.executor !== undefined) query.executor = parsed.executor;
    if (parsed.since !== undefined) query.since = parsed.since;
    if (parsed.until !== undefined) query.until = parsed.until;
    if (parsed.cursor) query.cursor = parsed.cursor;
    await this.ctx.ready();
    if (parsed.job !== undefined) {
      const job = await this.#findJob(parsed.job, parsed.tenantId, parsed.includeGlobal === true);
      if (!job) return { items: [], nextCursor: null };
      query.jobId = job.id;
    }
    return storeCall('listRuns', () => this.ctx.store.listRuns(query));
  }

  async #findJob(
    name: string,
    tenantId: string | null | undefined,
    includeGlobal: boolean,
  ): Promise<Job | null> {
    const store = this.ctx.store;
    const own = await storeCall('findJobByName', () => store.findJobByName(tenantId ?? null, name));
    if (own || tenantId === undefined || tenantId === null || !includeGlobal) return own;
    return storeCall('findJobByName', () => store.findJobByName(null, name));
  }
}

function dayOf(instant: Date): string {
  return instant.toISOString().slice(0, 10);
}

/** The longest timeline `stats` builds: one entry per day, like the `days` cap. */
const MAX_TIMELINE_DAYS = 366;

/**
 * `since` as a date whose day lies within the last {@link MAX_TIMELINE_DAYS} days: an older one
 * would make the timeline (one entry per day) hold centuries, blocking the process to build it.
 */
function sinceOf(value: unknown, now: Date): Date {
  const since =
    value instanceof Date
      ? value
      : typeof value === 'string' && value.length <= 64
        ? parseIsoDate(value)
        : null;
  if (since === null || Number.isNaN(since.getTime()))
    throw ValidationError.field('since', `is not a valid date (${DATE_TEXT_RULE})`);
  const today = Date.parse(dayOf(now));
  const earliest = today - (MAX_TIMELINE_DAYS - 1) * DAY;
  if (since.getTime() < earliest || since.getTime() >= today + DAY)
    throw ValidationError.field(
      'since',
      `must be a day from ${dayOf(new Date(earliest))} to today (the timeline holds at most ${MAX_TIMELINE_DAYS} days)`,
    );
  return since;
}

/** KPIs and the per-day timeline (days in UTC). */
export async function computeStats(
  ctx: SchedulerContext,
  options: { since?: Date | string; tenantId?: string | null; days?: number } = {},
): Promise<SchedulerStats> {
  const days = options.days ?? 7;
  if (!Number.isInteger(days) || days < 1 || days > MAX_TIMELINE_DAYS)
    throw ValidationError.field('days', `must be a whole number from 1 to ${MAX_TIMELINE_DAYS}`);
  const now = ctx.clock.now();
  const since = options.since === undefined ? null : sinceOf(options.since, now);
  // A tenant's figures are its own runs and jobs: global runs (maintenance, other tenants' work)
  // are not counted, and the next run is the next of its own jobs.
  const tenantIds = tenantIdsOf({ tenantId: options.tenantId });
  const scope = tenantIds ? { tenantIds } : {};
  const until = new Date(now.getTime() + 1);
  const firstDay = since ?? new Date(Date.parse(dayOf(now)) - (days - 1) * DAY);
  const store = ctx.store;
  const [recent, history, active, nextRunAt] = await Promise.all([
    storeCall('countRuns', () =>
      store.countRuns({ ...scope, from: new Date(now.getTime() - DAY), to: until }),
    ),
    storeCall('countRuns', () => store.countRuns({ ...scope, from: firstDay, to: until })),
    storeCall('countActive', () => store.countActive(scope)),
    storeCall('nextJobRunAt', () => store.nextJobRunAt(scope)),
  ]);
  const total = (status: Run['status']) =>
    recent.filter((row) => row.status === status).reduce((sum, row) => sum + row.count, 0);
  const succeeded = total('succeeded');
  const failed = total('failed');
  const timeline: TimelineDay[] = [];
  for (let day = Date.parse(dayOf(firstDay)); day <= now.getTime(); day += DAY) {
    const date = dayOf(new Date(day));
    const entry: TimelineDay = { date, succeeded: 0, failed: 0, cancelled: 0, skipped: 0 };
    for (const row of history) {
      if (row.day === date && row.status in entry)
        entry[row.status as keyof Omit<TimelineDay, 'date'>] += row.count;
    }
    timeline.push(entry);
  }
  return {
    executions24h: succeeded + failed + total('cancelled'),
    running: active.running,
    failures24h: failed,
    successRate: succeeded + failed === 0 ? null : succeeded / (succeeded + failed),
    nextRunAt,
    timeline,
  };
}

function lastRunOf(
  run: Pick<Run, 'id' | 'status' | 'startedAt' | 'finishedAt' | 'durationMs' | 'error'>,
): LastRunView {
  return {
    id: run.id,
    status: run.status,
    at: run.startedAt ?? run.finishedAt,
    durationMs: run.durationMs,
    error: run.error?.message ?? null,
  };
}

/** Per-job and per-executor view, as an admin dashboard shows it. */
export async function computeDashboard(
  ctx: SchedulerContext,
  options: { tenantId?: string | null; locale?: string } = {},
): Promise<Dashboard> {
  parse(dashboardOptionsSchema, options);
  // A tenant sees its jobs and the global ones (as a tenant may see them: no run outcomes), and
  // figures from its own runs only.
  const viewer = options.tenantId ?? null;
  const listed = tenantIdsOf({ tenantId: options.tenantId, includeGlobal: true });
  const own = tenantIdsOf({ tenantId: options.tenantId });
  const store = ctx.store;
  const [stored, running, executorRows] = await Promise.all([
    storeCall('listJobs', () => store.listJobs(listed ? { tenantIds: listed } : {})),
    storeCall('listRuns', () =>
      store.listRuns({ ...(own ? { tenantIds: own } : {}), statuses: ['running'], limit: 500 }),
    ),
    storeCall('executorSummaries', () => store.executorSummaries(own ? { tenantIds: own } : {})),
  ]);
  const jobs = stored.map((job) => jobAsSeenBy(job, viewer));
  const runningJobs = new Set(running.items.map((run) => run.jobId));
  const describe = (job: Job) => {
    try {
      return scheduleOf(job).describe(options.locale);
    } catch {
      return job.schedule;
    }
  };
  const summaries = new Map(executorRows.map((row) => [row.executor, row]));
  return {
    jobs: jobs.map((job) => ({
      name: job.name,
      tenantId: job.tenantId,
      description: job.description,
      schedule: job.schedule,
      describe: describe(job),
      timezone: job.timezone,
      enabled: job.enabled,
      pausedNote: job.pausedNote,
      status: runningJobs.has(job.id) ? 'running' : (job.lastStatus ?? 'idle'),
      lastRun: job.lastRunId
        ? {
            id: job.lastRunId,
            status: job.lastStatus ?? 'succeeded',
            at: job.lastRunAt,
            durationMs: job.lastDurationMs,
            error: job.lastError,
          }
        : null,
      nextRunAt: job.nextRunAt,
      runCount: job.runCount,
      errorCount: job.errorCount,
      executors: job.tasks.map((task) => task.executor),
    })),
    executors: ctx.registry.list().map((info) => {
      const summary = summaries.get(info.name);
      const lastRun = summary?.lastRun ? lastRunOf(summary.lastRun) : null;
      return {
        name: info.name,
        description: info.description,
        status: summary && summary.running > 0 ? 'running' : (lastRun?.status ?? 'idle'),
        lastRun,
        runCount: summary?.runCount ?? 0,
        errorCount: summary?.errorCount ?? 0,
      };
    }),
  };
}
