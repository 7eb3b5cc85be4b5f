import { isTerminal, type Job, parseSchedule, type Run, type Store } from '@cronkeeper/core';
import { type Execution, msBetween } from './ledger.js';

/**
 * The reliability invariants. From the stored history (read through a fresh store instance): every
 * due slot fired once, every run ended, every retry linked to the attempt it repeats. From the
 * executor ledger (what the executors did, on one monotonic clock): no two runs of an exclusive job
 * ever executed at the same time, no run executed twice, and every run the store calls succeeded
 * or failed by its executor was executed, once, by the instance that claimed it.
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
  /** When the pause was asked for: slots after `mustUntil` and up to here may be unfired. */
  pauseAskedAt: Date;
  /** No slot after here may exist (the job was paused at this instant; plus any clock skew). */
  mayUntil: Date;
}

/** What the executor ledger holds, and when the harness saw each process exit. */
export interface LedgerInput {
  executions: Execution[];
  /** Lines the ledger reader could not make sense of. */
  problems: string[];
  /** Instance id → `process.hrtime.bigint()` when the harness saw its process exit. */
  exits: ReadonlyMap<string, bigint>;
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
  /** Slots that came due before the pause but after the last one fired when it was asked for. */
  slotsAtPause: number;
  staleRecoveries: number;
  retries: number;
  /** Executions in the ledger. */
  executions: number;
  /** Executions cut short by their process's end (a SIGKILL) rather than settling. */
  executionsCut: number;
  /** Executions of exclusive runs, and hand-overs between two of one job compared. */
  exclusiveExecutions: number;
  exclusiveHandOvers: number;
  /** Pairs of exclusive runs of one job whose executions overlapped in time; must be 0. */
  exclusiveOverlaps: number;
  worstExclusiveOverlapMs: number;
  /** The shortest time from one exclusive run's executor stopping to the next one's starting. */
  closestHandOverMs: number | null;
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
    for (const slot of slotsBetween(job, window.mustUntil, window.pauseAskedAt))
      if (!fired.has(slot.getTime())) report.slotsAtPause++;
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
 * From the ledger: every execution belongs to a stored run and to the instance that claimed it, no
 * run executed twice, every run the store says succeeded (or failed by its executor's error) was
 * executed and settled that way, and the executions of runs sharing a concurrency key, none of them
 * `allow`, never overlapped. No allowance: the ledger's times are one monotonic clock, read by the
 * executors themselves, so an overlap of any length is two executors running at once. An execution
 * cut by a SIGKILL ends when the harness saw its process exit (later than it really ended).
 */
function checkLedger(
  history: History,
  ledger: LedgerInput,
  report: InvariantReport,
  add: (v: string) => void,
) {
  for (const problem of ledger.problems) add(`ledger: ${problem}`);
  const runs = new Map(history.runs.map((run) => [run.id, run]));
  const byRun = new Map<string, Execution[]>();
  for (const execution of ledger.executions)
    byRun.set(execution.runId, [...(byRun.get(execution.runId) ?? []), execution]);
  report.executions = ledger.executions.length;
  for (const [runId, executions] of byRun) {
    const run = runs.get(runId);
    if (!run) {
      add(`ledger: run ${runId} executed on ${executions[0]?.instanceId} is not in the store`);
      continue;
    }
    if (executions.length > 1)
      add(
        `${label(run)}: run ${runId} executed ${executions.length} times (${executions.map((e) => e.instanceId).join(', ')})`,
      );
    for (const execution of executions)
      if (execution.instanceId !== run.workerId)
        add(`${label(run)}: run ${runId} executed on ${execution.instanceId} but claimed by ${run.workerId}`);
  }
  for (const run of history.runs) {
    const executedBy =
      run.status === 'succeeded' ? 'resolved' : run.error?.code === 'error' ? 'rejected' : null;
    if (!executedBy) continue;
    const [execution] = byRun.get(run.id) ?? [];
    if (!execution) add(`${label(run)}: run ${run.id} is ${run.status} but no executor ran it`);
    else if (execution.outcome !== executedBy)
      add(
        `${label(run)}: run ${run.id} is ${run.status} but its executor ${execution.outcome ?? 'never settled'}`,
      );
  }

  const groups = new Map<string, Array<{ execution: Execution; run: Run; end: bigint }>>();
  for (const execution of ledger.executions) {
    const run = runs.get(execution.runId);
    if (!run) continue;
    let end = execution.stop;
    if (end === null) {
      report.executionsCut++;
      end = ledger.exits.get(execution.instanceId) ?? null;
      if (end === null) {
        add(`${label(run)}: run ${run.id} never stopped on ${execution.instanceId}, which never exited`);
        continue;
      }
    }
    if (run.overlap === 'allow') continue;
    report.exclusiveExecutions++;
    const group = groups.get(run.concurrencyKey) ?? [];
    group.push({ execution, run, end });
    groups.set(run.concurrencyKey, group);
  }
  for (const group of groups.values()) {
    group.sort((a, b) =>
      a.execution.start < b.execution.start ? -1 : a.execution.start > b.execution.start ? 1 : 0,
    );
    let previous: (typeof group)[number] | null = null;
    for (const entry of group) {
      if (previous) {
        report.exclusiveHandOvers++;
        const gapMs = msBetween(previous.end, entry.execution.start);
        if (gapMs < 0) {
          report.exclusiveOverlaps++;
          report.worstExclusiveOverlapMs = Math.max(report.worstExclusiveOverlapMs, -gapMs);
          add(
            `${label(entry.run)}: run ${entry.run.id} (${entry.run.trigger}, ${entry.execution.instanceId}) started ${(-gapMs).toFixed(1)} ms before run ${previous.run.id} (${previous.run.trigger}, ${previous.execution.instanceId}, now ${previous.run.status}${previous.run.error ? ` ${previous.run.error.code}` : ''}) stopped executing`,
          );
        } else if (report.closestHandOverMs === null || gapMs < report.closestHandOverMs) {
          report.closestHandOverMs = gapMs;
        }
      }
      if (!previous || entry.end > previous.end) previous = entry;
    }
  }
}

const label = (run: Run) => run.jobName ?? run.executor;

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

/** Check every invariant over `history` and the ledger; violations are listed (capped), figures counted. */
export function checkInvariants(
  history: History,
  windows: SlotWindow[],
  ledger: LedgerInput,
): InvariantReport {
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
    slotsAtPause: 0,
    staleRecoveries: history.runs.filter((run) => run.error?.code === 'stale').length,
    retries: 0,
    executions: 0,
    executionsCut: 0,
    exclusiveExecutions: 0,
    exclusiveHandOvers: 0,
    exclusiveOverlaps: 0,
    worstExclusiveOverlapMs: 0,
    closestHandOverMs: null,
  };
  let dropped = 0;
  const add = (violation: string) => {
    if (report.violations.length < MAX_LISTED) report.violations.push(violation);
    else dropped++;
  };
  for (const run of history.runs)
    if (!isTerminal(run.status)) add(`run ${run.id} (${run.jobName ?? run.executor}) ended ${run.status}`);
  checkSlots(history, windows, report, add);
  checkLedger(history, ledger, report, add);
  checkRetries(history, report, add);
  if (dropped > 0) report.violations.push(`… and ${dropped} more`);
  return report;
}
