import {
  isTerminal,
  type NewRun,
  OVERLAP_SKIP_ERROR,
  type Run,
  type RunError,
  type RunLogLine,
  type RunProgress,
  type RunTask,
  type TenantIds,
} from '@cronkeeper/core';
import { inTenants } from './admin-queries.js';
import { copy } from './copy.js';
import { earlier, IndexedHeap, type Meter } from './heap.js';
import { RunQueue } from './run-queue.js';

/** How a running run ends. */
export interface Settlement {
  now: Date;
  status: 'succeeded' | 'failed' | 'cancelled';
  result: Run['result'];
  error: RunError | null;
  tasks?: RunTask[];
  logs?: RunLogLine[];
  progress?: RunProgress | null;
}

/** A run that ended leaves no task pending or running: each such task takes the run's status. */
function endTasks(run: Run): void {
  for (const task of run.tasks)
    if (task.status === 'pending' || task.status === 'running') task.status = run.status;
}

/**
 * Every run by id, with the secondary indexes the claim path needs in O(1): by dedupe key, by job,
 * and the {@link RunQueue} of pending and running runs. Optionally caps the finished runs kept.
 */
export class RunTable {
  readonly queue: RunQueue;
  readonly #byId = new Map<string, Run>();
  readonly #byDedupeKey = new Map<string, Run>();
  readonly #byJob = new Map<string, Set<Run>>();
  readonly #finished: IndexedHeap<Run> | null;

  constructor(
    meter: Meter,
    private readonly maxFinished: number | null,
    private readonly onSettled: (run: Run) => void,
  ) {
    this.queue = new RunQueue(meter);
    this.#finished =
      maxFinished === null
        ? null
        : new IndexedHeap<Run>((a, b) => earlier(a.finishedAt, b.finishedAt, a.id, b.id), meter);
  }

  get(id: string): Run | undefined {
    return this.#byId.get(id);
  }

  all(): IterableIterator<Run> {
    return this.#byId.values();
  }

  byDedupeKey(key: string): Run | undefined {
    return this.#byDedupeKey.get(key);
  }

  /** Runs of a job (a snapshot, safe to change runs while walking it). */
  ofJob(jobId: string): Run[] {
    return [...(this.#byJob.get(jobId) ?? [])];
  }

  /** Store a copy of `input` under a new id; the caller has checked its dedupe key. */
  add(input: NewRun): Run {
    const run: Run = { ...copy(input), id: globalThis.crypto.randomUUID() };
    this.#byId.set(run.id, run);
    if (run.dedupeKey !== null) this.#byDedupeKey.set(run.dedupeKey, run);
    if (run.jobId !== null) {
      const runs = this.#byJob.get(run.jobId);
      if (runs) runs.add(run);
      else this.#byJob.set(run.jobId, new Set([run]));
    }
    if (run.status === 'pending') this.queue.addPending(run);
    else if (run.status === 'running') this.queue.addRunning(run);
    else if (isTerminal(run.status)) this.#finish(run);
    return run;
  }

  /** Start due runs for `workerId` in claim order, skipping by the overlap policy. */
  claim(input: { workerId: string; now: Date; limit: number; leaseMs: number }): {
    claimed: Run[];
    skipped: Run[];
  } {
    const claimed: Run[] = [];
    const skipped: Run[] = [];
    const now = input.now.getTime();
    this.queue.claim(input.now, input.limit, {
      start: (run) => {
        run.status = 'running';
        run.workerId = input.workerId;
        run.startedAt = new Date(now);
        run.leaseUntil = new Date(now + input.leaseMs);
        claimed.push(run);
      },
      skip: (run) => {
        run.status = 'skipped';
        endTasks(run);
        run.finishedAt = new Date(now);
        run.error = { ...OVERLAP_SKIP_ERROR };
        this.#finish(run);
        skipped.push(run);
      },
    });
    return { claimed, skipped };
  }

  /** End a running run: terminal status, timings, lease cleared, then the job's bookkeeping. */
  settle(run: Run, settlement: Settlement): void {
    this.queue.removeRunning(run);
    const now = settlement.now.getTime();
    run.status = settlement.status;
    run.finishedAt = new Date(now);
    run.durationMs = run.startedAt === null ? null : Math.max(0, now - run.startedAt.getTime());
    run.result = copy(settlement.result);
    run.error = copy(settlement.error);
    if (settlement.tasks !== undefined) run.tasks = copy(settlement.tasks);
    endTasks(run);
    if (settlement.logs !== undefined) run.logs = copy(settlement.logs);
    if (settlement.progress !== undefined) run.progress = copy(settlement.progress);
    run.leaseUntil = null;
    this.onSettled(run);
    this.#finish(run);
  }

  /** Cancel a pending run at once. */
  cancelPending(run: Run, now: Date, error: RunError): void {
    this.queue.removePending(run);
    run.status = 'cancelled';
    endTasks(run);
    run.finishedAt = new Date(now);
    run.error = error;
    this.#finish(run);
  }

  /** Delete terminal runs finished before `before` (in these tenants); returns how many. */
  prune(before: Date, tenantIds: TenantIds | undefined): number {
    const doomed = [...this.#byId.values()].filter(
      (run) =>
        isTerminal(run.status) &&
        run.finishedAt !== null &&
        run.finishedAt.getTime() < before.getTime() &&
        inTenants(tenantIds, run.tenantId),
    );
    for (const run of doomed) this.#delete(run);
    return doomed.length;
  }

  #finish(run: Run): void {
    if (!this.#finished || this.maxFinished === null) return;
    this.#finished.push(run);
    while (this.#finished.size > this.maxFinished) this.#delete(this.#finished.peek() as Run);
  }

  #delete(run: Run): void {
    this.#byId.delete(run.id);
    this.#finished?.remove(run);
    if (run.dedupeKey !== null && this.#byDedupeKey.get(run.dedupeKey) === run)
      this.#byDedupeKey.delete(run.dedupeKey);
    if (run.jobId !== null) {
      const runs = this.#byJob.get(run.jobId);
      runs?.delete(run);
      if (runs?.size === 0) this.#byJob.delete(run.jobId);
    }
  }
}
