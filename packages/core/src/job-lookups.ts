import type { Store } from './store.js';
import type { Job, Run } from './types.js';

/**
 * What one claimed run's job is looked up with: the read of its batch, when there was one, and the
 * ids already handed to a run of it.
 */
export type BatchJobs = Promise<{ jobs: Map<string, Job>; given: Set<string> } | undefined> | undefined;

/**
 * The jobs a claimed run executes with. A schedule run of the slot this instance read its job for
 * (the latest burst of due jobs) takes that copy, one round trip per run saved; the jobs of the
 * other runs of a claimed batch are read in one `getJobs` call when the store has one. Without it,
 * an instance that claimed a burst of cron runs another one fired read one job per run, and with
 * its pool's connections taken in turn, the last of a hundred started some 40 ms late.
 */
export class JobLookups {
  /** The jobs of the latest burst of due jobs, by id, as read when their slot came due. */
  #due = new Map<string, Job>();

  constructor(
    private readonly store: Store,
    /** A failed batch read is reported here; each run then reads its own job. */
    private readonly reportError: (error: unknown) => void,
  ) {}

  /** A new burst of due jobs was read: its jobs replace the previous burst's. */
  replaceDue(): void {
    this.#due = new Map();
  }

  rememberDue(job: Job): void {
    this.#due.set(job.id, job);
  }

  /** The job of `run` as read when the slot `run` was fired for came due, if this instance read it. */
  dueJobOf(run: Run): Job | undefined {
    const job = run.jobId === null ? undefined : this.#due.get(run.jobId);
    const slot = run.trigger === 'schedule' ? run.scheduledFor?.getTime() : undefined;
    return job && slot !== undefined && job.nextRunAt?.getTime() === slot ? job : undefined;
  }

  /** One read of the jobs of `runs` not at hand, when more than one run needs one and the store can. */
  readBatch(runs: readonly Run[]): BatchJobs {
    const getJobs = this.store.getJobs?.bind(this.store);
    const unread = runs.filter((run) => run.jobId !== null && !this.dueJobOf(run));
    if (unread.length < 2 || !getJobs) return undefined;
    const ids = [...new Set(unread.map((run) => run.jobId as string))];
    // Called in a promise, so that a store throwing rather than rejecting is handled the same way.
    return Promise.resolve()
      .then(() => getJobs(ids))
      .then(
        (jobs) => ({ jobs: new Map(jobs.map((job) => [job.id, job])), given: new Set<string>() }),
        (error) => {
          this.reportError(error);
          return undefined;
        },
      );
  }

  /** `run`'s job (null for a job-less run, or a job deleted since): at hand, from its batch, or read alone. */
  async jobOf(run: Run, batch: BatchJobs): Promise<Job | null> {
    if (run.jobId === null) return null;
    const due = this.dueJobOf(run);
    if (due) return due;
    const read = await batch;
    if (!read) return this.store.getJob(run.jobId);
    const job = read.jobs.get(run.jobId);
    if (!job) return null;
    // Runs of one job read once each get a copy of their own, as reads of their own gave them: an
    // executor that changes its job's metadata must not change another run's.
    if (read.given.has(job.id)) return structuredClone(job);
    read.given.add(job.id);
    return job;
  }
}
