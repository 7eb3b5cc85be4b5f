import type { RunStatus } from '@cronkeeper/core';

/** Terminal statuses, each with its own time-ordered index of finished runs. */
export const FINISHED_STATUSES = ['succeeded', 'failed', 'cancelled', 'skipped'] as const;

/** Every status, each with its own history index. */
export const ALL_STATUSES: readonly RunStatus[] = ['pending', 'running', ...FINISHED_STATUSES];

/**
 * The key layout, built from the prefix. The Lua prelude builds the same names from `KEYS[1]`
 * (see `lua/prelude.ts`); this side is used by reads outside scripts and by tests.
 */
export class KeyLayout {
  /** `<prefix>:`, the root of every key; passed to every script as `KEYS[1]`. */
  readonly root: string;

  constructor(prefix: string) {
    this.root = `${prefix}:`;
  }

  /** Pub/sub channel of store events. */
  get channel(): string {
    return `${this.root}events`;
  }

  job(id: string): string {
    return `${this.root}job:${id}`;
  }
  /** Set of every job id. */
  get jobs(): string {
    return `${this.root}jobs`;
  }
  /** Set of the job ids of one tenant. */
  jobsOfTenant(tenant: string): string {
    return `${this.root}jobs:t:${tenant}`;
  }
  /** Sorted set: enabled jobs by `nextRunAt`. */
  get dueJobs(): string {
    return `${this.root}jobs:due`;
  }
  dueJobsOfTenant(tenant: string): string {
    return `${this.root}jobs:due:t:${tenant}`;
  }
  /** Hash: `[tenantId, name]` → job id. */
  get jobNames(): string {
    return `${this.root}jobs:names`;
  }

  run(id: string): string {
    return `${this.root}run:${id}`;
  }
  /** Sorted set: every pending run by `runAt`. */
  get pendingRuns(): string {
    return `${this.root}runs:pending`;
  }
  /** Sorted set: running runs by `leaseUntil`. */
  get leases(): string {
    return `${this.root}runs:leases`;
  }
  /** Sorted set: running runs by `startedAt`. */
  get runningRuns(): string {
    return `${this.root}runs:running`;
  }
  /** Sorted set: finished runs of one status by `finishedAt`, globally or for one tenant. */
  finished(status: string, tenant?: string): string {
    return tenant === undefined
      ? `${this.root}runs:finished:${status}`
      : `${this.root}runs:finished:${status}:t:${tenant}`;
  }
  /** History: lexicographic sorted sets of `<createdAt>:<id>`, globally and per dimension. */
  get history(): string {
    return `${this.root}runs:history`;
  }
  historyOfTenant(tenant: string): string {
    return `${this.root}runs:history:t:${tenant}`;
  }
  historyOfStatus(status: string): string {
    return `${this.root}runs:history:s:${status}`;
  }
  historyOfJob(jobId: string): string {
    return `${this.root}runs:history:j:${jobId}`;
  }
  historyOfExecutor(executor: string): string {
    return `${this.root}runs:history:e:${executor}`;
  }
  /** Sorted set: the pending runs of one concurrency key, by `runAt`. */
  pendingOfKey(concurrencyKey: string): string {
    return `${this.root}keys:pending:${concurrencyKey}`;
  }
  /** Set: the running runs of one concurrency key. */
  runningOfKey(concurrencyKey: string): string {
    return `${this.root}keys:running:${concurrencyKey}`;
  }
  /** Hash: pending and running counts of one tenant. */
  active(tenant: string): string {
    return `${this.root}stats:active:${tenant}`;
  }
  /** Hash: per-executor counters of one tenant. */
  executors(tenant: string): string {
    return `${this.root}stats:executors:${tenant}`;
  }
  /** Set of the tenant tokens that have runs. */
  get tenants(): string {
    return `${this.root}stats:tenants`;
  }
}

/** How a tenant id appears in key names and hashes: JSON, so `null` and `"null"` differ. */
export function tenantToken(tenantId: string | null): string {
  return JSON.stringify(tenantId);
}

/** The uniqueness key of a job name within its tenant. */
export function jobNameKey(tenantId: string | null, name: string): string {
  return JSON.stringify([tenantId, name]);
}

const MAX_MS = 8_640_000_000_000_000;

/**
 * A fixed-width text form of an epoch-ms instant whose byte order is time order, for members of
 * lexicographic sorted sets: `p` + 16 digits from 1970 on, `n` + 16 digits (offset) before.
 */
export function sortableMs(ms: number): string {
  if (!Number.isInteger(ms) || Math.abs(ms) > MAX_MS) throw new RangeError(`not a valid instant: ${ms}`);
  return ms >= 0 ? `p${String(ms).padStart(16, '0')}` : `n${String(MAX_MS + ms).padStart(16, '0')}`;
}

/** The history member of a run: sorts by `createdAt`, then `id`. */
export function historyMember(createdAt: Date, id: string): string {
  return `${sortableMs(createdAt.getTime())}:${id}`;
}

/** The claim-order member of a pending run (under score `priority`): sorts by `runAt`, `createdAt`, `id`. */
export function claimMember(runAt: Date, createdAt: Date, id: string): string {
  return `${sortableMs(runAt.getTime())}:${sortableMs(createdAt.getTime())}:${id}`;
}

/** The run id at the end of a history or claim member. */
export function idOfMember(member: string): string {
  return member.slice(member.lastIndexOf(':') + 1);
}
