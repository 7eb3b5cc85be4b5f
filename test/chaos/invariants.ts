import { isTerminal, type Job, parseSchedule, type Run, type Store } from '@cronkeeper/core';

/**
 * The reliability invariants, checked from the stored history alone: whatever the processes did,
 * a fresh store instance must show every due slot fired once, exclusive jobs never running twice,
 * every run ended, and every retry linked to the attempt it repeats.
 */

export interface History {
  jobs: Job[];
  runs: Run[];
}

/** Everything in the namespace: every job, and every run through `listRuns` paging. */
export async function readHistory(store: Store): Promise<History> {
  const jobs = await store.listJobs({});
  const runs: Run[] = [];
  const seen = new Set<string>();
  let cursor: string | null = null;
  do {
    const page = await store.listRuns({ limit: 500, cursor });
    for (const run of page.items) {
      // Paging must neither repeat nor skip: a repeated id is a store bug worth reporting.
      if (seen.has(run.id)) throw new Error(`listRuns returned run ${run.id} on two pages`);
      seen.add(run.id);
      runs.push(run);
    }
    cursor = page.nextCursor;
  } while (cursor);
  return { jobs, runs };
}

/** When a cron job's slots had to fire: every slot in (`from`, `mustUntil`] exactly once, none after `mayUntil`. */
export interface SlotWindow {
  jobName: string;
  /** The job's creation (its first slot is the first after this). */
  from: Date;
  /** Slots up to here must exist: the job was still enabled and the workers had time to fire them. */
  mustUntil: Date;
  /** No slot after here may exist (the job was paused at this instant; plus any clock skew). */
  mayUntil: Date;
}

export interface Clocks {
  /** Instance id → how far its clock ran ahead of true time, ms. */
  offsets: ReadonlyMap<string, number>;
  /** Run id → instance that recovered it (wrote its finish time). */
  recoveredBy: ReadonlyMap<string, string>;
  /** Longest a store command may take from its timestamp to the store (process and network delays). */
  inFlightMs: number;
  /** Epoch-ms spans during which the server was stopped and commands piled up unordered. */
  stalls: ReadonlyArray<readonly [number, number]>;
}

export interface InvariantReport {
  violations: string[];
  runs: number;
  byStatus: Record<string, number>;
  byTrigger: Record<string, number>;
  slotsExpected: number;
  slotsFired: number;
  slotsMissed: number;
  slotsDoubled: number;
  slotsUnexpected: number;
  staleRecoveries: number;
  retries: number;
  /** Exclusive runs whose stored times overlap by a command's delivery time (see checkExclusive). */
  timestampOverlaps: number;
  worstTimestampOverlapMs: number;
}

const MAX_LISTED = 20;

function count<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

/** Every slot of `job` in (from, until]. */
export function slotsBetween(job: Pick<Job, 'schedule' | 'timezone'>, from: Date, until: Date): Date[] {
  const schedule = parseSchedule(job.schedule, { timezone: job.timezone });
  const slots: Date[] = [];
  for (let slot = schedule.next(from); slot && slot <= until; slot = schedule.next(slot)) slots.push(slot);
  return slots;
}

function checkSlots(
  history: History,
  windows: SlotWindow[],
  report: InvariantReport,
  add: (v: string) => void,
) {
  const jobsByName = new Map(history.jobs.map((job) => [job.name, job]));
  for (const window of windows) {
    const job = jobsByName.get(window.jobName);
    if (!job) {
      add(`job ${window.jobName} is missing from listJobs`);
      continue;
    }
    const fired = new Map<number, number>();
    const creations = new Map<number, string>();
    for (const run of history.runs) {
      if (run.jobId !== job.id || run.trigger !== 'schedule' || !run.scheduledFor) continue;
      const at = run.scheduledFor.getTime();
      fired.set(at, (fired.get(at) ?? 0) + 1);
      creations.set(
        at,
        `created ${run.createdAt.toISOString()} by a tick of ${run.workerId ?? 'an instance'}`,
      );
    }
    const allowed = new Set(slotsBetween(job, window.from, window.mayUntil).map((slot) => slot.getTime()));
    for (const slot of slotsBetween(job, window.from, window.mustUntil)) {
      report.slotsExpected++;
      if (!fired.has(slot.getTime())) {
        report.slotsMissed++;
        add(`${job.name}: slot ${slot.toISOString()} never fired`);
      }
    }
    for (const [at, times] of fired) {
      report.slotsFired++;
      if (times > 1) {
        report.slotsDoubled += times - 1;
        add(`${job.name}: slot ${new Date(at).toISOString()} fired ${times} times`);
      }
      if (!allowed.has(at)) {
        report.slotsUnexpected++;
        add(
          `${job.name}: run for ${new Date(at).toISOString()} (${creations.get(at)}), not a slot in (${window.from.toISOString()}, ${window.mayUntil.toISOString()}]`,
        );
      }
    }
  }
}

/**
 * Runs sharing a concurrency key, none of them `allow`, must never have run at once. Stored times
 * are each written by a client just before its command reached the store, and the store applies
 * commands in arrival order: a claim sent a moment before another process's finish may land just
 * after it. So an apparent overlap is explained by delivery, not a double run, only when it is no
 * longer than a command can be in flight (`inFlightMs`) or when both commands were sent while the
 * server was stopped (`stalls`). Anything else is a violation; every apparent overlap is counted.
 */
function checkExclusive(history: History, clocks: Clocks, report: InvariantReport, add: (v: string) => void) {
  // Timestamps are written with the writer's clock; read them in true time so a skewed instance
  // neither hides an overlap nor invents one.
  const trueTime = (date: Date, writer: string | null | undefined) =>
    date.getTime() - (writer ? (clocks.offsets.get(writer) ?? 0) : 0);
  const stalled = (ms: number) =>
    clocks.stalls.some(([from, to]) => ms >= from - clocks.inFlightMs && ms <= to + clocks.inFlightMs);
  const groups = new Map<string, Array<{ run: Run; start: number; end: number }>>();
  for (const run of history.runs) {
    if (run.overlap === 'allow' || !run.startedAt || !run.finishedAt) continue;
    const finisher = clocks.recoveredBy.get(run.id) ?? run.workerId;
    const entry = {
      run,
      start: trueTime(run.startedAt, run.workerId),
      end: trueTime(run.finishedAt, finisher),
    };
    const group = groups.get(run.concurrencyKey) ?? [];
    group.push(entry);
    groups.set(run.concurrencyKey, group);
  }
  for (const group of groups.values()) {
    group.sort((a, b) => a.start - b.start);
    let previous: (typeof group)[number] | null = null;
    for (const entry of group) {
      if (previous && entry.start < previous.end) {
        const overlap = previous.end - entry.start;
        report.timestampOverlaps++;
        report.worstTimestampOverlapMs = Math.max(report.worstTimestampOverlapMs, overlap);
        const delivery = overlap <= clocks.inFlightMs || (stalled(entry.start) && stalled(previous.end));
        if (!delivery)
          add(
            `${entry.run.jobName ?? entry.run.executor}: run ${entry.run.id} (${entry.run.trigger}, ${entry.run.workerId}) started ${overlap} ms before run ${previous.run.id} (${previous.run.trigger}, ${previous.run.workerId}) ended`,
          );
      }
      if (!previous || entry.end > previous.end) previous = entry;
    }
  }
}

function checkRetries(history: History, report: InvariantReport, add: (v: string) => void) {
  const byId = new Map(history.runs.map((run) => [run.id, run]));
  const children = new Map<string, number>();
  for (const run of history.runs) {
    if (run.trigger !== 'retry') continue;
    report.retries++;
    const parent = run.parentRunId ? byId.get(run.parentRunId) : undefined;
    if (!parent) {
      add(`retry ${run.id} has no parent run (parentRunId ${run.parentRunId})`);
      continue;
    }
    if (run.attempt !== parent.attempt + 1)
      add(`retry ${run.id} is attempt ${run.attempt} but its parent is attempt ${parent.attempt}`);
    if (parent.status !== 'failed')
      add(`retry ${run.id} repeats run ${parent.id}, which is ${parent.status}`);
    if (run.attempt > run.maxAttempts) add(`retry ${run.id} is attempt ${run.attempt} of ${run.maxAttempts}`);
    children.set(parent.id, (children.get(parent.id) ?? 0) + 1);
  }
  for (const [parentId, times] of children)
    if (times > 1) add(`run ${parentId} was retried ${times} times (one retry per failed attempt)`);
}

/** Check every invariant over `history`; violations are listed (capped), figures counted. */
export function checkInvariants(history: History, windows: SlotWindow[], clocks: Clocks): InvariantReport {
  const report: InvariantReport = {
    violations: [],
    runs: history.runs.length,
    byStatus: count(history.runs, (run) => run.status),
    byTrigger: count(history.runs, (run) => run.trigger),
    slotsExpected: 0,
    slotsFired: 0,
    slotsMissed: 0,
    slotsDoubled: 0,
    slotsUnexpected: 0,
    staleRecoveries: history.runs.filter((run) => run.error?.code === 'stale').length,
    retries: 0,
    timestampOverlaps: 0,
    worstTimestampOverlapMs: 0,
  };
  let dropped = 0;
  const add = (violation: string) => {
    if (report.violations.length < MAX_LISTED) report.violations.push(violation);
    else dropped++;
  };
  for (const run of history.runs)
    if (!isTerminal(run.status)) add(`run ${run.id} (${run.jobName ?? run.executor}) ended ${run.status}`);
  checkSlots(history, windows, report, add);
  checkExclusive(history, clocks, report, add);
  checkRetries(history, report, add);
  if (dropped > 0) report.violations.push(`… and ${dropped} more`);
  return report;
}
