import type {
  CreateRunInput,
  CreateRunResult,
  InsertJobsOptions,
  NewAuditEntry,
  NewJob,
  NewRun,
} from './store.js';
import type { Job } from './types.js';

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
}

function chunksOf(count: number, size: number): [number, number][] {
  const chunks: [number, number][] = [];
  for (let start = 0; start < count; start += size) chunks.push([start, Math.min(count, start + size)]);
  return chunks;
}

/**
 * `Store.createRuns` on top of a chunk writer: repeated dedupe keys are answered from the first
 * input that holds them (so a chunk never carries one key twice), inputs that need `createRun`'s
 * own checks go through it, and the rest are written a chunk per round trip.
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
  for (const [start, end] of chunksOf(plain.length, writer.chunkSize)) {
    const indexes = plain.slice(start, end);
    const written = await writer.writeChunk(indexes.map((index) => (inputs[index] as CreateRunInput).run));
    indexes.forEach((index, at) => {
      results[index] = written[at];
    });
  }
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

/** The key under which a job's name is unique. */
function nameKey(job: Pick<NewJob, 'tenantId' | 'name'>): string {
  return JSON.stringify([job.tenantId, job.name]);
}

/**
 * `Store.insertJobs` on top of a chunk writer: a name repeated in the call is taken by its first
 * input (later ones get null without a write), and the rest are written a chunk per round trip.
 */
export async function insertJobsInChunks(
  jobs: readonly NewJob[],
  options: InsertJobsOptions | undefined,
  writer: JobChunkWriter,
): Promise<(Job | null)[]> {
  const results: (Job | null)[] = jobs.map(() => null);
  const seen = new Set<string>();
  const first: number[] = [];
  jobs.forEach((job, index) => {
    const key = nameKey(job);
    if (seen.has(key)) return;
    seen.add(key);
    first.push(index);
  });
  for (const [start, end] of chunksOf(first.length, writer.chunkSize)) {
    const indexes = first.slice(start, end);
    const written = await writer.writeChunk(
      indexes.map((index) => jobs[index] as NewJob),
      indexes.map((index) => options?.audits?.[index]),
    );
    indexes.forEach((index, at) => {
      results[index] = written[at] ?? null;
    });
  }
  return results;
}
