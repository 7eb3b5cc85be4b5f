import { ConflictError, type Job } from '@cronkeeper/core';
import { earlier, IndexedHeap, type Meter } from './heap.js';

function nameKey(tenantId: string | null, name: string): string {
  // JSON keeps a null tenant apart from a tenant literally named "null".
  return JSON.stringify([tenantId, name]);
}

function isDue(job: Job): boolean {
  return job.enabled && job.nextRunAt !== null;
}

/** Jobs by id, by (tenant, name), and the enabled ones by `nextRunAt` for the scheduling loop. */
export class JobTable {
  readonly #byId = new Map<string, Job>();
  readonly #byName = new Map<string, Job>();
  readonly #schedule: IndexedHeap<Job>;

  constructor(meter: Meter) {
    this.#schedule = new IndexedHeap<Job>((a, b) => earlier(a.nextRunAt, b.nextRunAt, a.id, b.id), meter);
  }

  get(id: string): Job | undefined {
    return this.#byId.get(id);
  }

  byName(tenantId: string | null, name: string): Job | undefined {
    return this.#byName.get(nameKey(tenantId, name));
  }

  all(): IterableIterator<Job> {
    return this.#byId.values();
  }

  /** Add a job; rejects a (tenant, name) already taken. */
  insert(job: Job): void {
    const key = nameKey(job.tenantId, job.name);
    if (this.#byName.has(key)) throw conflict(job.tenantId, job.name);
    this.#byId.set(job.id, job);
    this.#byName.set(key, job);
    if (isDue(job)) this.#schedule.push(job);
  }

  /** Change a job in place through `change`, keeping the indexes right; rejects a name clash first. */
  modify(job: Job, next: Pick<Job, 'tenantId' | 'name'>, change: (job: Job) => void): void {
    const oldKey = nameKey(job.tenantId, job.name);
    const newKey = nameKey(next.tenantId, next.name);
    const holder = this.#byName.get(newKey);
    if (holder && holder !== job) throw conflict(next.tenantId, next.name);
    this.#schedule.remove(job);
    this.#byName.delete(oldKey);
    change(job);
    this.#byName.set(nameKey(job.tenantId, job.name), job);
    if (isDue(job)) this.#schedule.push(job);
  }

  delete(job: Job): void {
    this.#byId.delete(job.id);
    this.#byName.delete(nameKey(job.tenantId, job.name));
    this.#schedule.remove(job);
  }

  /** Enabled jobs with `nextRunAt <= now`, earliest first, looking only at those. */
  *due(now: Date): Generator<Job, void, undefined> {
    for (const job of this.#schedule.ascending()) {
      if ((job.nextRunAt as Date).getTime() > now.getTime()) return;
      yield job;
    }
  }

  /** The earliest enabled `nextRunAt` strictly after `now`. */
  firstAfter(now: Date): Date | null {
    for (const job of this.#schedule.ascending()) {
      if ((job.nextRunAt as Date).getTime() > now.getTime()) return job.nextRunAt;
    }
    return null;
  }

  /** Enabled jobs with a `nextRunAt`, in time order, for admin queries filtered afterwards. */
  scheduled(): Generator<Job, void, undefined> {
    return this.#schedule.ascending();
  }
}

function conflict(tenantId: string | null, name: string): ConflictError {
  const where = tenantId === null ? 'globally' : `in tenant "${tenantId}"`;
  return new ConflictError(
    `a job named "${name}" already exists ${where}; pick another name or update that job`,
  );
}
