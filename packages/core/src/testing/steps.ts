import { expect } from 'vitest';
import type { AuditFilter, FinishRunInput, NewRun, Store } from '../store.js';
import type { AuditEntry, Job, Run, RunStatus } from '../types.js';
import { MINUTE, newRun, T0 } from './records.js';

/** Default lease of runs claimed by the suite. */
export const LEASE_MS = MINUTE;

/** A claim by `workerId` at `now` of at most `limit` runs, with the suite's lease. */
export const claimBy = (workerId: string, now: Date, limit: number) => ({
  workerId,
  now,
  limit,
  leaseMs: LEASE_MS,
});

/** Each run is running under `workerId`, started at `now`, with a lease from then. */
export function expectClaimedBy(runs: readonly Run[], workerId: string, now: Date): void {
  for (const run of runs)
    expect(run).toMatchObject({
      status: 'running',
      workerId,
      startedAt: now,
      leaseUntil: new Date(now.getTime() + LEASE_MS),
    });
}

/** The fields that tie a run to a stored job, as core sets them (a partial, unlike `newRunOf`). */
export function ofJob(job: Job): Partial<NewRun> {
  return {
    jobId: job.id,
    jobName: job.name,
    executor: job.tasks[0]?.executor ?? 'test.echo',
    tenantId: job.tenantId,
    trigger: 'schedule',
    priority: job.priority,
    overlap: job.overlap,
    concurrencyKey: `job:${job.id}`,
  };
}

/** Create a run that must be created (no dedupe or active check in the way). */
export async function createRun(store: Store, overrides: Partial<NewRun> = {}, now: Date = T0): Promise<Run> {
  const result = await store.createRun({ run: newRun(overrides), now, rejectIfActive: false });
  expect(result.created, 'createRun should have created the run').toBe(true);
  return result.run;
}

/** Claim with limit 1 and check the run claimed is `expected`. */
export async function claimExactly(
  store: Store,
  expected: Run,
  options: { workerId?: string; now?: Date; leaseMs?: number } = {},
): Promise<Run> {
  const { claimed } = await store.claimRuns({
    workerId: options.workerId ?? 'worker-1',
    now: options.now ?? expected.runAt,
    limit: 1,
    leaseMs: options.leaseMs ?? LEASE_MS,
  });
  expect(claimed.map((run) => run.id)).toEqual([expected.id]);
  return claimed[0] as Run;
}

/** Create a run due at `now` and claim it, so it is running under `workerId`. */
export async function startRun(
  store: Store,
  overrides: Partial<NewRun> = {},
  options: { workerId?: string; now?: Date; leaseMs?: number } = {},
): Promise<Run> {
  const now = options.now ?? T0;
  const run = await createRun(store, { runAt: now, createdAt: now, ...overrides }, now);
  return claimExactly(store, run, { ...options, now });
}

/** One run's finish through `finishRuns`. */
export async function finishOne(store: Store, input: FinishRunInput): Promise<Run | null> {
  const finished = await store.finishRuns([input]);
  expect(finished).toHaveLength(1);
  return finished[0] ?? null;
}

/** Finish a running run as its worker; the fence must hold. */
export async function finish(
  store: Store,
  run: Run,
  status: Extract<RunStatus, 'succeeded' | 'failed' | 'cancelled'>,
  now: Date,
  extra: { error?: { code: string; message: string } | null; result?: Run['result'] } = {},
): Promise<Run> {
  const finished = await finishOne(store, {
    runId: run.id,
    fence: { workerId: run.workerId ?? 'worker-1' },
    now,
    status,
    result: extra.result ?? null,
    error: extra.error ?? (status === 'failed' ? { code: 'error', message: 'boom' } : null),
  });
  expect(finished, `finishRun(${run.id}) should hold the fence`).not.toBeNull();
  return finished as Run;
}

/** Call `fn` `count` times at once, spread over `stores` round-robin: a real race. */
export function race<T>(
  stores: Store[],
  count: number,
  fn: (store: Store, index: number) => Promise<T>,
): Promise<T[]> {
  return Promise.all(
    Array.from({ length: count }, (_, index) => fn(stores[index % stores.length] as Store, index)),
  );
}

/** Every run of a listing, following cursors (the suite's databases are small). */
export async function allRuns(
  store: Store,
  filter: { jobId?: string; statuses?: RunStatus[] } = {},
): Promise<Run[]> {
  const runs: Run[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const result = await store.listRuns({ ...filter, limit: 100, cursor });
    runs.push(...result.items);
    cursor = result.nextCursor;
    if (!cursor) return runs;
  }
  throw new Error('listRuns kept returning cursors: paging never ends');
}

/** Every audit entry of a listing, following cursors, `limit` per page. */
export async function allAuditEntries(
  store: Store,
  filter: Omit<AuditFilter, 'limit' | 'cursor'> = {},
  limit = 100,
) {
  const entries: AuditEntry[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 200; page++) {
    const result = await store.listAudit({ ...filter, limit, cursor });
    expect(result.items.length).toBeLessThanOrEqual(limit);
    entries.push(...result.items);
    cursor = result.nextCursor;
    if (!cursor) return entries;
  }
  throw new Error('listAudit kept returning cursors: paging never ends');
}

/** Expect a promise to reject with a Cronkeeper error of `code` (checked by code, not class identity). */
export async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error, `expected a rejection with code ${code}`).toBeInstanceOf(Error);
  expect((error as { code?: unknown }).code).toBe(code);
}

/** Whether `value` appears in a raw record (any depth, including inside JSON text). */
export function storedValueIncludes(raw: Record<string, unknown> | null, value: string): boolean {
  if (!raw) return false;
  return JSON.stringify(raw, (_key, field) => (typeof field === 'bigint' ? String(field) : field)).includes(
    value,
  );
}

/** Poll `check` until it passes or `timeoutMs` elapses (real time: for cross-connection delivery). */
export async function eventually(check: () => void, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/** A random id that no store assigned. */
export function unknownId(): string {
  return globalThis.crypto.randomUUID();
}

/** Ids of runs, sorted, for set comparisons. */
export function idsOf(runs: readonly { id: string }[]): string[] {
  return runs.map((run) => run.id).sort();
}
