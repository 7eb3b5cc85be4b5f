import type {
  CreateRunInput,
  CreateRunResult,
  InsertJobsOptions,
  NewAuditEntry,
  NewJob,
  NewRun,
} from './store.js';
import type { Job, Run } from './types.js';

/** How a store writes one chunk of runs, and creates a run that needs `createRun`'s own checks. */
export interface RunChunkWriter {
  /** Inputs per round trip. */
  chunkSize: number;
  /**
   * Create `runs` (no `rejectIfActive`, no audit, dedupe keys distinct within the chunk) in one
   * round trip: per run, in order, created, or `duplicate` with the run that holds its key.
   */
  writeChunk(runs: NewRun[]): Promise<CreateRunResult[]>;
  /** The store's `createRun`, for inputs with `rejectIfActive` or an audit entry. */
  createRun(input: CreateRunInput): Promise<CreateRunResult>;
  /** Whether a chunk may be sent before the previous one is answered (see {@link JobChunkWriter.pipelined}). */
  pipelined?: boolean;
}

/** How a store writes one chunk of jobs. */
export interface JobChunkWriter {
  /** Inputs per round trip. */
  chunkSize: number;
  /**
   * Insert `jobs` (names distinct within the chunk) with their entries in one round trip: per job,
   * in order, the job created or null when its name is taken.
   */
  writeChunk(jobs: NewJob[], audits: (NewAuditEntry | undefined)[]): Promise<(Job | null)[]>;
  /**
   * `writeChunk` in two steps: build the chunk's request, and return what sends it. When given, it
   * is used instead of `writeChunk`, and the next chunk is built while this one is at the server.
   */
  prepareChunk?(jobs: NewJob[], audits: (NewAuditEntry | undefined)[]): () => Promise<(Job | null)[]>;
  /**
   * Whether a chunk may be sent before the previous one is answered, two at the server at once:
   * true for a backend that applies a connection's requests in the order sent (Redis), or where
   * two chunks applied at the same time leave what an applied-in-order pair would. Not for chunks
   * whose audit entries take their order from a sequence two statements would interleave.
   * Default false: one chunk at a time.
   */
  pipelined?: boolean;
}

/** Resolves after pending I/O callbacks: a request just started has then been handed to the socket. */
function afterPendingIo(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function chunksOf(count: number, size: number): [number, number][] {
  const chunks: [number, number][] = [];
  for (let start = 0; start < count; start += size) chunks.push([start, Math.min(count, start + size)]);
  return chunks;
}

/**
 * Writes `chunks` in order, each recorded as its answer comes. `build` does a chunk's client work
 * (encoding it) and returns what sends it. One at a time, the next chunk is built while the
 * previous one is at the server. Pipelined, two are at the server at once: each is sent as soon as
 * it is built, so the server works on one while the previous one's answer comes back and the next
 * one is built (chunks never depend on one another: their names or dedupe keys are distinct).
 * A failed chunk rejects the whole call and stops the sending; pipelined, the one chunk already
 * sent after it may be written too (each record is atomic on its own, the batch is not).
 */
async function writeChunks<T>(
  chunks: number[][],
  pipelined: boolean,
  build: (indexes: number[]) => () => Promise<T[]>,
  record: (indexes: number[], written: T[]) => void,
): Promise<void> {
  let failed = false;
  let previous: { indexes: number[]; written: Promise<T[]> } | null = null;
  let next = chunks[0] && build(chunks[0]);
  for (const [position, indexes] of chunks.entries()) {
    if (failed) break;
    const written = (next as () => Promise<T[]>)();
    // Rejected while another chunk is awaited or built, it is not unhandled: it is awaited below.
    written.catch(() => {
      failed = true;
    });
    const following = chunks[position + 1];
    if (pipelined) {
      if (previous) record(previous.indexes, await previous.written);
      previous = { indexes, written };
      // Lets the request just started reach the socket (and a failure already answered stop the
      // sending) before the next chunk is built.
      await afterPendingIo();
      next = following && build(following);
    } else {
      if (following) {
        await afterPendingIo();
        next = build(following);
      }
      record(indexes, await written);
    }
  }
  if (previous) record(previous.indexes, await previous.written);
}

/**
 * `Store.createRuns` on top of a chunk writer: repeated dedupe keys are answered from the first
 * input that holds them (so a chunk never carries one key twice), inputs that need `createRun`'s
 * own checks go through it, and the rest are written a chunk per round trip (see {@link writeChunks}).
 */
export async function createRunsInChunks(
  inputs: readonly CreateRunInput[],
  writer: RunChunkWriter,
): Promise<CreateRunResult[]> {
  const results: (CreateRunResult | undefined)[] = new Array(inputs.length);
  const firstWithKey = new Map<string, number>();
  const plain: number[] = [];
  const checked: number[] = [];
  const followers: [number, number][] = [];
  inputs.forEach((input, index) => {
    const key = input.run.dedupeKey;
    const leader = key === null ? undefined : firstWithKey.get(key);
    if (leader !== undefined) followers.push([index, leader]);
    else {
      if (key !== null) firstWithKey.set(key, index);
      (input.rejectIfActive || input.audit ? checked : plain).push(index);
    }
  });
  const chunks = chunksOf(plain.length, writer.chunkSize).map(([start, end]) => plain.slice(start, end));
  await writeChunks(
    chunks,
    writer.pipelined ?? false,
    (indexes) => () => writer.writeChunk(indexes.map((index) => (inputs[index] as CreateRunInput).run)),
    (indexes, written) =>
      indexes.forEach((index, at) => {
        results[index] = written[at];
      }),
  );
  const alone = (index: number) => {
    const { announceAs: _announce, ...input } = inputs[index] as CreateRunInput;
    return writer.createRun(input);
  };
  for (const index of checked) results[index] = await alone(index);
  for (const [index, leader] of followers) {
    const first = results[leader] as CreateRunResult;
    // Rejected as active, the leader created nothing: this input is a creation of its own.
    results[index] =
      first.created || first.reason === 'duplicate'
        ? { created: false, reason: 'duplicate', run: first.run }
        : await alone(index);
  }
  return results as CreateRunResult[];
}

/** `run` as created with `id`, its fields shared with `run`: {@link insertedJob}, for runs. */
export function createdRun(run: NewRun, id: string): Run {
  return {
    id,
    jobId: run.jobId,
    jobName: run.jobName,
    executor: run.executor,
    tenantId: run.tenantId,
    trigger: run.trigger,
    status: run.status,
    tasks: run.tasks,
    scheduledFor: run.scheduledFor,
    runAt: run.runAt,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    durationMs: run.durationMs,
    params: run.params,
    result: run.result,
    error: run.error,
    attempt: run.attempt,
    maxAttempts: run.maxAttempts,
    parentRunId: run.parentRunId,
    triggeredBy: run.triggeredBy,
    workerId: run.workerId,
    leaseUntil: run.leaseUntil,
    priority: run.priority,
    overlap: run.overlap,
    concurrencyKey: run.concurrencyKey,
    dedupeKey: run.dedupeKey,
    timeoutMs: run.timeoutMs,
    cancelRequested: run.cancelRequested,
    progress: run.progress,
    logs: run.logs,
  };
}

/**
 * `job` as stored with `id` at version 1, its fields shared with `job`: for a store's bulk insert,
 * whose records are the caller's, built for that call. Written field by field because V8 builds
 * `{ ...job, id, version: 1 }` on a record this size tens of times slower, once per job imported.
 */
export function insertedJob(job: NewJob, id: string): Job {
  return {
    name: job.name,
    tenantId: job.tenantId,
    description: job.description,
    schedule: job.schedule,
    timezone: job.timezone,
    tasks: job.tasks,
    params: job.params,
    enabled: job.enabled,
    pausedNote: job.pausedNote,
    overlap: job.overlap,
    misfire: job.misfire,
    catchUpLimit: job.catchUpLimit,
    misfireGraceMs: job.misfireGraceMs,
    timeoutMs: job.timeoutMs,
    retry: job.retry,
    autoPause: job.autoPause,
    jitterMs: job.jitterMs,
    priority: job.priority,
    activeFrom: job.activeFrom,
    activeUntil: job.activeUntil,
    metadata: job.metadata,
    nextRunAt: job.nextRunAt,
    lastRunAt: job.lastRunAt,
    lastRunId: job.lastRunId,
    lastStatus: job.lastStatus,
    lastError: job.lastError,
    lastDurationMs: job.lastDurationMs,
    runCount: job.runCount,
    errorCount: job.errorCount,
    consecutiveFailures: job.consecutiveFailures,
    createdAt: job.createdAt,
    createdBy: job.createdBy,
    updatedAt: job.updatedAt,
    updatedBy: job.updatedBy,
    id,
    version: 1,
  };
}

/**
 * `Store.insertJobs` on top of a chunk writer: a name repeated in the call is taken by its first
 * input (later ones get null without a write), and the rest are written a chunk per round trip
 * (see {@link writeChunks}).
 */
export async function insertJobsInChunks(
  jobs: readonly NewJob[],
  options: InsertJobsOptions | undefined,
  writer: JobChunkWriter,
): Promise<(Job | null)[]> {
  const results: (Job | null)[] = jobs.map(() => null);
  // Names by tenant: no key to build per job, and no separator a name could contain.
  const seen = new Map<string | null, Set<string>>();
  const first: number[] = [];
  jobs.forEach((job, index) => {
    let names = seen.get(job.tenantId);
    if (!names) {
      names = new Set();
      seen.set(job.tenantId, names);
    }
    if (names.has(job.name)) return;
    names.add(job.name);
    first.push(index);
  });
  const chunks = chunksOf(first.length, writer.chunkSize).map(([start, end]) => first.slice(start, end));
  const build = (indexes: number[]): (() => Promise<(Job | null)[]>) => {
    const chunk = indexes.map((index) => jobs[index] as NewJob);
    const audits = indexes.map((index) => options?.audits?.[index]);
    return writer.prepareChunk ? writer.prepareChunk(chunk, audits) : () => writer.writeChunk(chunk, audits);
  };
  await writeChunks(chunks, writer.pipelined ?? false, build, (indexes, written) =>
    indexes.forEach((index, at) => {
      results[index] = written[at] ?? null;
    }),
  );
  return results;
}
