import { randomUUID } from 'node:crypto';
import type {
  AuditFilter,
  AuditPage,
  ClaimResult,
  ClaimRunsInput,
  CreateRunInput,
  CreateRunResult,
  ExecutorSummary,
  FinishAndClaimInput,
  FinishAndClaimResult,
  FinishedRun,
  FinishRunInput,
  FireAndClaimInput,
  FireAndClaimResult,
  FireSlotInput,
  FireSlotResult,
  InsertJobsOptions,
  Job,
  JobFilter,
  JobPatch,
  NewAuditEntry,
  NewJob,
  RateLimitSpec,
  RateLimitVerdict,
  RenewLeaseInput,
  Run,
  RunCountRow,
  RunError,
  RunFilter,
  RunPage,
  Store,
  StoreCapabilities,
  StoreEvent,
  TenantIds,
} from '@cronkeeper/core';
import { createRunsInChunks, insertJobsInChunks } from '@cronkeeper/core';
import { auditArgs, listAudit, pruneAudit } from './audit.js';
import * as bulk from './bulk.js';
import { claimArgs, claimResult, finishArgs, finishResult, HeldRuns, ms } from './claim-finish.js';
import { execPipeline, type RedisArgument, type RedisClientLike } from './client.js';
import { asStored, decodeJob, decodeRun, encodeNewRun, runField } from './codec.js';
import { RedisContext } from './context.js';
import { encodeStoreEvents } from './event-schema.js';
import { RedisEvents } from './events.js';
import { listRunsPage } from './history.js';
import { JobRecords } from './job-records.js';
import { KeyLayout, tenantToken } from './keys.js';
import { consumeRateLimits, failStaleRuns, pruneRuns } from './maintenance.js';
import { type ParsedRedisStoreOptions, parseRedisStoreOptions, type RedisStoreOptions } from './options.js';
import { countActiveRuns, countRunsByDay, summarizeExecutors } from './reports.js';
import { type LuaScript, loadScripts, SCRIPTS } from './scripts.js';

/** Due jobs one findDueJobs script reads at most; a larger page is read in a pipeline. */
const DUE_JOBS_PER_SCRIPT = 500;
function defaultOnError(error: Error): void {
  console.warn(`[cronkeeper] redis store: ${error.message}`);
}

/**
 * A run a script created, read from the fields it was sent (what Redis stored); a script that
 * answered an id it was not sent is a bug, reported rather than answered as a missing run.
 */
function runAsSent(fields: string[] | undefined): Run {
  const run = fields ? decodeRun(asStored(fields)) : null;
  if (!run) throw new Error('redis store: a script answered a created run it was not sent');
  return run;
}

/**
 * The Store on Redis. Every step that changes more than one key is one Lua script (atomic in
 * Redis), so the contract holds with any number of instances; reads are plain commands.
 */
export class RedisStore implements Store {
  // createRun publishes the run it created from inside its script (see CREATE_RUN).
  readonly capabilities: StoreCapabilities = {
    subscribe: true,
    announcesCreatedRuns: true,
    announcesFinishedRuns: true,
  };
  readonly keys: KeyLayout;
  readonly #client: RedisClientLike;
  readonly #ctx: RedisContext;
  readonly #jobs: JobRecords;
  readonly #events: RedisEvents;
  readonly #held = new HeldRuns();

  constructor(options: RedisStoreOptions) {
    const parsed: ParsedRedisStoreOptions = parseRedisStoreOptions(options);
    this.#client = parsed.redis;
    this.keys = new KeyLayout(parsed.prefix);
    this.#ctx = new RedisContext(parsed.redis, this.keys);
    this.#jobs = new JobRecords(this.#ctx);
    this.#events = new RedisEvents(
      parsed.redis,
      this.keys.channel,
      parsed.onError ?? defaultOnError,
      parsed.redis.isCluster
        ? (channel, messages) => this.#ctx.run(SCRIPTS.publishEvents, [channel, ...messages])
        : undefined,
    );
  }

  async init(): Promise<void> {
    await loadScripts(this.#client);
  }

  async close(): Promise<void> {
    await this.#events.close();
  }

  publish(events: readonly StoreEvent[]): Promise<void> {
    return this.#events.publish(events);
  }

  subscribe(listener: (event: StoreEvent) => void): Promise<() => Promise<void>> {
    return this.#events.subscribe(listener);
  }

  #run(script: LuaScript, args: readonly RedisArgument[]): Promise<unknown> {
    return this.#ctx.run(script, args);
  }

  // ---- claim path ----

  async findDueJobs(query: { now: Date; limit: number }): Promise<Job[]> {
    if (query.limit <= 0) return [];
    // One script reads the index and the records in one round trip; it runs alone on the server,
    // so a page is read by it only up to a size that keeps other clients' wait short.
    if (query.limit <= DUE_JOBS_PER_SCRIPT) {
      const records = (await this.#run(SCRIPTS.findDueJobs, [
        ms(query.now),
        String(query.limit),
      ])) as unknown[];
      return records.map((record) => decodeJob(record) as Job);
    }
    const ids = (await this.#client.call(
      'zrangebyscore',
      this.keys.dueJobs,
      '-inf',
      ms(query.now),
      'LIMIT',
      0,
      query.limit,
    )) as string[];
    return this.#ctx.readAll(
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

  async fireSlots(inputs: FireSlotInput[]): Promise<FireSlotResult[]> {
    if (inputs.length === 0) return [];
    const firing = fireArgs(inputs);
    return firing.results((await this.#run(SCRIPTS.fireSlots, firing.args)) as unknown[]);
  }

  /** One script: the fireSlots body, then the claimRuns body (see lua/claim-path.ts). */
  async fireAndClaim(input: FireAndClaimInput): Promise<FireAndClaimResult> {
    const firing = fireArgs(input.firings);
    // A limit of 0 claims nothing, as claimRuns answers it.
    const claim = claimArgs({ ...input.claim, limit: Math.max(0, input.claim.limit) });
    const [reply, claimed, skipped] = (await this.#run(SCRIPTS.fireAndClaim, [
      String(firing.args.length),
      ...firing.args,
      ...claim,
    ])) as [unknown[], unknown[], unknown[]];
    return { fired: firing.results(reply), ...claimResult([claimed, skipped], this.#held, input.claim) };
  }

  async createRun(input: CreateRunInput): Promise<CreateRunResult> {
    const id = randomUUID();
    const fields = encodeNewRun(input.run, id);
    const [outcome, holder] = (await this.#run(SCRIPTS.createRun, [
      id,
      ms(input.now),
      input.rejectIfActive ? '1' : '0',
      ...this.#announcement(input, id),
      String(fields.length),
      ...fields,
      ...auditArgs(input.audit),
    ])) as [string, unknown?];
    // The created run is stored as sent; a refusal answers the run in the way.
    if (outcome === 'created') return { created: true, run: runAsSent(fields) };
    const run = decodeRun(holder) as Run;
    return { created: false, reason: outcome === 'duplicate' ? 'duplicate' : 'active', run };
  }

  /** createRun's announcement arguments: the channel and the run's event, or '' when not announced. */
  #announcement(input: CreateRunInput, id: string): [string, string] {
    if (input.announceAs === undefined) return ['', ''];
    const event: StoreEvent = {
      type: 'run',
      origin: input.announceAs,
      runId: id,
      status: input.run.status,
      tenantId: input.run.tenantId,
    };
    return [this.keys.channel, encodeStoreEvents([event])];
  }

  createRuns(inputs: CreateRunInput[]): Promise<CreateRunResult[]> {
    return createRunsInChunks(inputs, {
      chunkSize: bulk.RUN_CHUNK,
      writeChunk: (runs) => bulk.writeRuns(this.#ctx, runs),
      createRun: (input) => this.createRun(input),
      // One connection: Redis runs the scripts in the order they were sent.
      pipelined: true,
    });
  }

  async claimRuns(input: ClaimRunsInput): Promise<ClaimResult> {
    if (input.limit <= 0) return { claimed: [], skipped: [] };
    const reply = (await this.#run(SCRIPTS.claimRuns, claimArgs(input))) as [unknown[], unknown[]];
    return claimResult(reply, this.#held, input);
  }

  async renewLease(input: RenewLeaseInput): Promise<{ ok: boolean; cancelRequested: boolean }> {
    const [ok, cancelRequested] = (await this.#run(SCRIPTS.renewLease, [
      input.runId,
      input.workerId,
      String(input.now.getTime() + input.leaseMs),
      input.progress === undefined ? 'keep' : 'set',
      input.progress === undefined ? '' : runField.json(input.progress),
      input.logs === undefined ? 'keep' : 'set',
      input.logs === undefined ? '' : runField.logs(input.logs),
    ])) as [number, number];
    // A lease this worker no longer holds is never finished by it.
    if (ok !== 1) this.#held.release(input.runId);
    return { ok: ok === 1, cancelRequested: cancelRequested === 1 };
  }

  async finishRuns(inputs: FinishRunInput[]): Promise<(FinishedRun | null)[]> {
    const finish = finishArgs(inputs, this.keys.channel, this.#held);
    if (finish.sent.length === 0) return inputs.map(() => null);
    const [reply, paused] = (await this.#run(SCRIPTS.finishRuns, finish.args)) as [unknown[], string[]];
    return finishResult(inputs, finish, reply, paused, this.#held);
  }

  /** One script: the finishRuns body, then the claimRuns body (see lua/claim-path.ts). */
  async finishAndClaim(input: FinishAndClaimInput): Promise<FinishAndClaimResult> {
    const finish = finishArgs(input.finishes, this.keys.channel, this.#held);
    // A limit of 0 claims nothing, as claimRuns answers it.
    const claim = claimArgs({ ...input.claim, limit: Math.max(0, input.claim.limit) });
    const [[reply, paused], claimed, skipped] = (await this.#run(SCRIPTS.finishAndClaim, [
      String(finish.args.length),
      ...finish.args,
      ...claim,
    ])) as [[unknown[], string[]], unknown[], unknown[]];
    return {
      finished: finishResult(input.finishes, finish, reply, paused, this.#held),
      ...claimResult([claimed, skipped], this.#held, input.claim),
    };
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
    const runs = await this.#ctx.readAll(
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

  insertJob(input: NewJob, options: { audit?: NewAuditEntry } = {}): Promise<Job> {
    return this.#jobs.insert(input, options.audit);
  }

  insertJobs(jobs: NewJob[], options?: InsertJobsOptions): Promise<(Job | null)[]> {
    return insertJobsInChunks(jobs, options, {
      chunkSize: bulk.JOB_CHUNK,
      prepareChunk: (chunk, audits) => bulk.prepareJobs(this.#ctx, chunk, audits),
      writeChunk: (chunk, audits) => bulk.prepareJobs(this.#ctx, chunk, audits)(),
      pipelined: true,
    });
  }

  getJob(id: string): Promise<Job | null> {
    return this.#jobs.get(id);
  }

  getJobs(ids: readonly string[]): Promise<Job[]> {
    return this.#jobs.getMany(ids);
  }

  findJobByName(tenantId: string | null, name: string): Promise<Job | null> {
    return this.#jobs.findByName(tenantId, name);
  }

  listJobs(filter: JobFilter): Promise<Job[]> {
    return this.#jobs.list(filter);
  }

  updateJob(input: {
    id: string;
    expectedVersion: number;
    patch: JobPatch;
    now: Date;
    audit?: NewAuditEntry;
  }): Promise<Job | null> {
    return this.#jobs.update(input);
  }

  deleteJob(input: { id: string; now: Date; audit?: NewAuditEntry }): Promise<boolean> {
    return this.#jobs.delete(input);
  }

  async getRun(id: string): Promise<Run | null> {
    return decodeRun(await this.#client.call('hgetall', this.keys.run(id)));
  }

  listRuns(filter: RunFilter): Promise<RunPage> {
    return listRunsPage(this.#client, this.keys, filter);
  }

  failStaleRuns(input: {
    startedBefore: Date;
    now: Date;
    error: RunError;
    tenantIds?: TenantIds;
  }): Promise<Run[]> {
    return failStaleRuns(this.#ctx, input);
  }

  pruneRuns(input: { finishedBefore: Date; tenantIds?: TenantIds }): Promise<number> {
    return pruneRuns(this.#ctx, input);
  }

  listAudit(filter: AuditFilter): Promise<AuditPage> {
    return listAudit(this.#ctx, filter);
  }

  pruneAudit(input: { before: Date; tenantIds?: TenantIds }): Promise<number> {
    return pruneAudit(this.#ctx, input);
  }

  countRuns(query: { tenantIds?: TenantIds; from: Date; to: Date }): Promise<RunCountRow[]> {
    return countRunsByDay(this.#client, this.keys, query);
  }

  countActive(query: {
    tenantIds?: TenantIds;
    concurrencyKey?: string;
  }): Promise<{ pending: number; running: number }> {
    return countActiveRuns(this.#client, this.keys, query.tenantIds, query.concurrencyKey);
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

  consumeRateLimits(input: { limits: readonly RateLimitSpec[]; now: Date }): Promise<RateLimitVerdict> {
    return consumeRateLimits(this.#ctx, input);
  }
}

/**
 * fireSlots' script arguments for `inputs` (at least one), and how to read its reply. A created
 * run is stored as sent: it is read back from these fields, not from Redis.
 */
function fireArgs(inputs: FireSlotInput[]): {
  args: RedisArgument[];
  results(reply: unknown[]): FireSlotResult[];
} {
  const args: RedisArgument[] = [String(inputs.length)];
  const sent = new Map<string, string[]>();
  for (const input of inputs) {
    args.push(
      input.jobId,
      ms(input.expectedNextRunAt),
      input.nextRunAt === null ? '' : ms(input.nextRunAt),
      String(input.runs.length),
    );
    for (const run of input.runs) {
      const id = randomUUID();
      const fields = encodeNewRun(run, id);
      sent.set(id, fields);
      args.push(id, String(fields.length), ...fields);
    }
  }
  const results = (reply: unknown[]) => {
    let at = 0;
    return inputs.map(() => {
      const advanced = reply[at] === 1;
      const count = Number(reply[at + 1]);
      const created = reply.slice(at + 2, at + 2 + count).map((id) => runAsSent(sent.get(String(id))));
      at += 2 + count;
      return { advanced, created };
    });
  };
  return { args, results };
}
