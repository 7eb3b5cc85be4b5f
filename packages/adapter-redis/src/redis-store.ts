import { randomUUID } from 'node:crypto';
import {
  type ClaimResult,
  ConflictError,
  type CreateRunResult,
  type ExecutorSummary,
  type FinishRunInput,
  type FireSlotInput,
  type FireSlotResult,
  type Job,
  type JobFilter,
  type JobPatch,
  type NewJob,
  type NewRun,
  type Run,
  type RunCountRow,
  type RunError,
  type RunFilter,
  type RunLogLine,
  type RunPage,
  type RunProgress,
  type Store,
  type StoreCapabilities,
  type StoreEvent,
  type TenantIds,
} from '@cronkeeper/core';
import { execPipeline, type RedisArgument, type RedisClientLike } from './client.js';
import {
  decodeJob,
  decodeRun,
  encodeJobPatch,
  encodeNewJob,
  encodeNewRun,
  hashReply,
  runField,
} from './codec.js';
import { RedisEvents } from './events.js';
import { listRunsPage } from './history.js';
import { jobNameKey, KeyLayout, tenantToken } from './keys.js';
import { type ParsedRedisStoreOptions, parseRedisStoreOptions, type RedisStoreOptions } from './options.js';
import { countActiveRuns, countRunsByDay, summarizeExecutors } from './reports.js';
import { type LuaScript, loadScripts, runScript, SCRIPTS } from './scripts.js';

/** Due runs moved into the claim order per claim at most, so one call never blocks Redis for long. */
const PROMOTE_PER_CLAIM = 1_000;
/** Runs failed or pruned per script call; the store loops until a batch comes back short. */
const BATCH = 500;
/** Rate-limit keys outlive their window by this much (a safety net; the window itself decides). */
const RATE_LIMIT_SLACK_MS = 60_000;

const SKIP_ERROR = JSON.stringify({
  code: 'overlap',
  message: 'skipped: a run with the same concurrency key was running (overlap "skip")',
});

function byNameThenTenant(a: Job, b: Job): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.tenantId === b.tenantId) return 0;
  if (a.tenantId === null) return -1;
  if (b.tenantId === null) return 1;
  return a.tenantId < b.tenantId ? -1 : 1;
}

function defaultOnError(error: Error): void {
  console.warn(`[cronkeeper] redis store: ${error.message}`);
}

const ms = (date: Date): string => String(date.getTime());

/** A run as script arguments: id, field count, fields. */
function runArgs(run: NewRun, id: string): string[] {
  const fields = encodeNewRun(run, id);
  return [id, String(fields.length), ...fields];
}

function conflictMessage(tenantId: string | null, name: string): string {
  const where = tenantId === null ? 'as a global job' : `in tenant "${tenantId}"`;
  return `a job named "${name}" already exists ${where}: pick another name or update that job`;
}

/**
 * The Store on Redis. Every step that changes more than one key is one Lua script (atomic in
 * Redis), so the contract holds with any number of instances; reads are plain commands.
 */
export class RedisStore implements Store {
  readonly capabilities: StoreCapabilities = { subscribe: true };
  readonly keys: KeyLayout;
  readonly #client: RedisClientLike;
  readonly #events: RedisEvents;

  constructor(options: RedisStoreOptions) {
    const parsed: ParsedRedisStoreOptions = parseRedisStoreOptions(options);
    this.#client = parsed.redis;
    this.keys = new KeyLayout(parsed.prefix);
    this.#events = new RedisEvents(parsed.redis, this.keys.channel, parsed.onError ?? defaultOnError);
  }

  async init(): Promise<void> {
    await loadScripts(this.#client);
  }

  async close(): Promise<void> {
    await this.#events.close();
  }

  publish(event: StoreEvent): Promise<void> {
    return this.#events.publish(event);
  }

  subscribe(listener: (event: StoreEvent) => void): Promise<() => Promise<void>> {
    return this.#events.subscribe(listener);
  }

  #run(script: LuaScript, args: readonly RedisArgument[]): Promise<unknown> {
    return runScript(this.#client, script, this.keys.root, args);
  }

  async #readAll<T>(keys: string[], decode: (reply: unknown) => T | null): Promise<T[]> {
    if (keys.length === 0) return [];
    const pipeline = this.#client.pipeline();
    for (const key of keys) pipeline.call('hgetall', key);
    const records: T[] = [];
    for (const reply of await execPipeline(pipeline)) {
      const record = decode(reply);
      if (record !== null) records.push(record);
    }
    return records;
  }

  // ---- claim path ----

  async findDueJobs(query: { now: Date; limit: number }): Promise<Job[]> {
    if (query.limit <= 0) return [];
    const ids = (await this.#client.call(
      'zrangebyscore',
      this.keys.dueJobs,
      '-inf',
      ms(query.now),
      'LIMIT',
      0,
      query.limit,
    )) as string[];
    return this.#readAll(
      ids.map((id) => this.keys.job(id)),
      decodeJob,
    );
  }

  async nextWakeAt(query: { now: Date }): Promise<Date | null> {
    const pipeline = this.#client.pipeline();
    for (const key of [this.keys.dueJobs, this.keys.pendingRuns])
      pipeline.call('zrangebyscore', key, `(${ms(query.now)}`, '+inf', 'WITHSCORES', 'LIMIT', 0, 1);
    const times = (await execPipeline(pipeline))
      .map((reply) => (reply as string[])[1])
      .filter((score): score is string => score !== undefined)
      .map(Number);
    return times.length === 0 ? null : new Date(Math.min(...times));
  }

  async fireSlot(input: FireSlotInput): Promise<FireSlotResult> {
    const args: RedisArgument[] = [
      input.jobId,
      ms(input.expectedNextRunAt),
      input.nextRunAt === null ? '' : ms(input.nextRunAt),
      String(input.runs.length),
    ];
    for (const run of input.runs) args.push(...runArgs(run, randomUUID()));
    const [advanced, ...created] = (await this.#run(SCRIPTS.fireSlot, args)) as [number, ...unknown[]];
    return { advanced: advanced === 1, created: created.map((reply) => decodeRun(reply) as Run) };
  }

  async createRun(input: { run: NewRun; now: Date; rejectIfActive: boolean }): Promise<CreateRunResult> {
    const id = randomUUID();
    const [outcome, reply] = (await this.#run(SCRIPTS.createRun, [
      id,
      ms(input.now),
      input.rejectIfActive ? '1' : '0',
      ...runArgs(input.run, id).slice(1),
    ])) as [string, unknown];
    const run = decodeRun(reply) as Run;
    if (outcome === 'created') return { created: true, run };
    return { created: false, reason: outcome === 'duplicate' ? 'duplicate' : 'active', run };
  }

  async claimRuns(input: {
    workerId: string;
    now: Date;
    limit: number;
    leaseMs: number;
  }): Promise<ClaimResult> {
    if (input.limit <= 0) return { claimed: [], skipped: [] };
    const [claimed, skipped] = (await this.#run(SCRIPTS.claimRuns, [
      input.workerId,
      ms(input.now),
      String(input.limit),
      String(input.now.getTime() + input.leaseMs),
      SKIP_ERROR,
      String(PROMOTE_PER_CLAIM),
    ])) as [unknown[], unknown[]];
    return {
      claimed: claimed.map((reply) => decodeRun(reply) as Run),
      skipped: skipped.map((reply) => decodeRun(reply) as Run),
    };
  }

  async renewLease(input: {
    runId: string;
    workerId: string;
    now: Date;
    leaseMs: number;
    progress?: RunProgress | null;
    logs?: RunLogLine[];
  }): Promise<{ ok: boolean; cancelRequested: boolean }> {
    const [ok, cancelRequested] = (await this.#run(SCRIPTS.renewLease, [
      input.runId,
      input.workerId,
      String(input.now.getTime() + input.leaseMs),
      input.progress === undefined ? 'keep' : 'set',
      input.progress === undefined ? '' : runField.json(input.progress),
      input.logs === undefined ? 'keep' : 'set',
      input.logs === undefined ? '' : runField.logs(input.logs),
    ])) as [number, number];
    return { ok: ok === 1, cancelRequested: cancelRequested === 1 };
  }

  async finishRun(input: FinishRunInput): Promise<Run | null> {
    // An empty worker id is how the script spells the 'expired' fence: it never holds a lease.
    if (input.fence !== 'expired' && input.fence.workerId === '') return null;
    const args: RedisArgument[] = [
      input.runId,
      input.fence === 'expired' ? '' : input.fence.workerId,
      ms(input.now),
      input.status,
      runField.json(input.result),
      runField.json(input.error),
      input.tasks === undefined ? 'keep' : 'set',
      input.tasks === undefined ? '' : runField.tasks(input.tasks),
      input.logs === undefined ? 'keep' : 'set',
      input.logs === undefined ? '' : runField.logs(input.logs),
      input.error?.message ?? 'failed',
    ];
    if (input.followUp) args.push('1', ...runArgs(input.followUp, randomUUID()));
    else args.push('0');
    return decodeRun(await this.#run(SCRIPTS.finishRun, args));
  }

  async findExpiredLeases(query: { now: Date; limit: number }): Promise<Run[]> {
    if (query.limit <= 0) return [];
    const ids = (await this.#client.call(
      'zrangebyscore',
      this.keys.leases,
      '-inf',
      `(${ms(query.now)}`,
      'LIMIT',
      0,
      query.limit,
    )) as string[];
    const runs = await this.#readAll(
      ids.map((id) => this.keys.run(id)),
      decodeRun,
    );
    return runs.filter((run) => run.status === 'running');
  }

  async cancelRun(input: { runId: string; now: Date; by: string | null }): Promise<Run | null> {
    const error: RunError = {
      code: 'cancelled',
      message: input.by ? `cancelled by ${input.by}` : 'cancelled',
    };
    return decodeRun(await this.#run(SCRIPTS.cancelRun, [input.runId, ms(input.now), JSON.stringify(error)]));
  }

  // ---- admin ----

  async insertJob(input: NewJob): Promise<Job> {
    const id = randomUUID();
    const fields = encodeNewJob(input, id);
    const inserted = await this.#run(SCRIPTS.insertJob, [
      id,
      jobNameKey(input.tenantId, input.name),
      tenantToken(input.tenantId),
      String(fields.length),
      ...fields,
    ]);
    if (inserted !== 1) throw new ConflictError(conflictMessage(input.tenantId, input.name));
    return { ...structuredClone(input), id, version: 1 };
  }

  async getJob(id: string): Promise<Job | null> {
    return decodeJob(await this.#client.call('hgetall', this.keys.job(id)));
  }

  async findJobByName(tenantId: string | null, name: string): Promise<Job | null> {
    const id = (await this.#client.call('hget', this.keys.jobNames, jobNameKey(tenantId, name))) as
      | string
      | null;
    if (id === null) return null;
    const job = await this.getJob(id);
    // Renamed or deleted between the two reads: the name is no longer this job's.
    return job && job.name === name && job.tenantId === tenantId ? job : null;
  }

  async listJobs(filter: JobFilter): Promise<Job[]> {
    if (filter.tenantIds?.length === 0) return [];
    const ids = (
      filter.tenantIds
        ? await this.#client.call(
            'sunion',
            ...[...new Set(filter.tenantIds.map(tenantToken))].map((tenant) =>
              this.keys.jobsOfTenant(tenant),
            ),
          )
        : await this.#client.call('smembers', this.keys.jobs)
    ) as string[];
    const jobs = await this.#readAll(
      ids.map((id) => this.keys.job(id)),
      decodeJob,
    );
    return jobs
      .filter((job) => filter.enabled === undefined || job.enabled === filter.enabled)
      .filter((job) => !filter.tenantIds || filter.tenantIds.includes(job.tenantId))
      .sort(byNameThenTenant);
  }

  async updateJob(input: {
    id: string;
    expectedVersion: number;
    patch: JobPatch;
    now: Date;
  }): Promise<Job | null> {
    const snapshot = await this.getJob(input.id);
    // The name key is derived from the version read here; the script applies it only if that version still holds.
    if (!snapshot || snapshot.version !== input.expectedVersion) return null;
    const tenantId = input.patch.tenantId !== undefined ? input.patch.tenantId : snapshot.tenantId;
    const name = input.patch.name ?? snapshot.name;
    const { set, unset } = encodeJobPatch(input.patch as Record<string, unknown>);
    const reply = (await this.#run(SCRIPTS.updateJob, [
      input.id,
      String(input.expectedVersion),
      jobNameKey(tenantId, name),
      tenantToken(tenantId),
      ms(input.now),
      String(set.length),
      ...set,
      String(unset.length),
      ...unset,
    ])) as [string, unknown];
    if (reply[0] === 'conflict') throw new ConflictError(conflictMessage(tenantId, name));
    if (reply[0] !== 'ok') return null;
    return decodeJob(reply[1]);
  }

  async deleteJob(input: { id: string; now: Date }): Promise<boolean> {
    return (await this.#run(SCRIPTS.deleteJob, [input.id, ms(input.now)])) === 1;
  }

  async getRun(id: string): Promise<Run | null> {
    return decodeRun(await this.#client.call('hgetall', this.keys.run(id)));
  }

  listRuns(filter: RunFilter): Promise<RunPage> {
    return listRunsPage(this.#client, this.keys, filter);
  }

  async failStaleRuns(input: { startedBefore: Date; now: Date; error: RunError }): Promise<Run[]> {
    const failed: Run[] = [];
    for (;;) {
      const [looked, runs] = (await this.#run(SCRIPTS.failStaleRuns, [
        ms(input.startedBefore),
        ms(input.now),
        JSON.stringify(input.error),
        input.error.message,
        String(BATCH),
      ])) as [number, unknown[]];
      failed.push(...runs.map((reply) => decodeRun(reply) as Run));
      if (looked < BATCH) return failed;
    }
  }

  async pruneRuns(input: { finishedBefore: Date; tenantIds?: TenantIds }): Promise<number> {
    const tenants = input.tenantIds ? [...new Set(input.tenantIds.map(tenantToken))] : null;
    if (tenants?.length === 0) return 0;
    let deleted = 0;
    for (;;) {
      const [looked, count] = (await this.#run(SCRIPTS.pruneRuns, [
        ms(input.finishedBefore),
        String(BATCH),
        String(tenants?.length ?? 0),
        ...(tenants ?? []),
      ])) as [number, number];
      deleted += count;
      if (looked < BATCH) return deleted;
    }
  }

  countRuns(query: { tenantIds?: TenantIds; from: Date; to: Date }): Promise<RunCountRow[]> {
    return countRunsByDay(this.#client, this.keys, query);
  }

  countActive(query: { tenantIds?: TenantIds }): Promise<{ pending: number; running: number }> {
    return countActiveRuns(this.#client, this.keys, query.tenantIds);
  }

  executorSummaries(query: { tenantIds?: TenantIds }): Promise<ExecutorSummary[]> {
    return summarizeExecutors(this.#client, this.keys, query.tenantIds);
  }

  async nextJobRunAt(query: { tenantIds?: TenantIds }): Promise<Date | null> {
    if (query.tenantIds?.length === 0) return null;
    const keys = query.tenantIds
      ? [...new Set(query.tenantIds.map(tenantToken))].map((tenant) => this.keys.dueJobsOfTenant(tenant))
      : [this.keys.dueJobs];
    const pipeline = this.#client.pipeline();
    for (const key of keys) pipeline.call('zrange', key, 0, 0, 'WITHSCORES');
    const times = (await execPipeline(pipeline))
      .map((reply) => (reply as string[])[1])
      .filter((score): score is string => score !== undefined)
      .map(Number);
    return times.length === 0 ? null : new Date(Math.min(...times));
  }

  async hitRateLimit(input: { key: string; limit: number; windowMs: number; now: Date }): Promise<{
    allowed: boolean;
    retryAfterMs: number;
  }> {
    const now = input.now.getTime();
    const [allowed, retryAfterMs] = (await this.#run(SCRIPTS.hitRateLimit, [
      input.key,
      String(input.limit),
      String(input.windowMs),
      String(now),
      String(now - input.windowMs),
      randomUUID(),
      String(Math.ceil(input.windowMs) + RATE_LIMIT_SLACK_MS),
    ])) as [number, number];
    return { allowed: allowed === 1, retryAfterMs: Number(retryAfterMs) };
  }

  /** Raw hash of a run or job, for tests and debugging (`inspect` in the contract suite). */
  async rawHash(key: string): Promise<Record<string, string> | null> {
    return hashReply(await this.#client.call('hgetall', key));
  }
}
