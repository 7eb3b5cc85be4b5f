import { randomUUID } from 'node:crypto';
import {
  type CreateRunResult,
  createdRun,
  insertedJob,
  type Job,
  type NewAuditEntry,
  type NewJob,
  type NewRun,
  type Run,
} from '@cronkeeper/core';
import { auditArgs } from './audit.js';
import { decodeRun, encodeCreatedRun, encodeInsertedJob } from './codec.js';
import type { RedisContext } from './context.js';
import { jobNameKey, tenantToken } from './keys.js';
import { SCRIPTS } from './scripts.js';

/**
 * Records per script. Redis runs a script alone, so a chunk is sized to keep that pause short
 * (a few milliseconds) while one round trip still carries many records.
 */
export const RUN_CHUNK = 500;
export const JOB_CHUNK = 500;

/** One script: create the chunk's runs whose dedupe key is free; the others get its holder. */
export async function writeRuns(ctx: RedisContext, runs: NewRun[]): Promise<CreateRunResult[]> {
  // The records are the caller's, built for this call: a copy of each top level is enough, and
  // deep-copying every one was a large share of an import's time.
  const made = runs.map((run) => createdRun(run, randomUUID()));
  const args: string[] = [String(runs.length)];
  for (const run of made) {
    const fields = encodeCreatedRun(run);
    args.push(run.id, String(fields.length));
    for (const field of fields) args.push(field);
  }
  const reply = (await ctx.run(SCRIPTS.createRuns, args)) as [string, unknown?][];
  return made.map((run, index): CreateRunResult => {
    const [outcome, holder] = reply[index] ?? [];
    if (outcome === 'c') return { created: true, run };
    return { created: false, reason: 'duplicate', run: decodeRun(holder) as Run };
  });
}

/**
 * One script: insert the chunk's jobs whose name is free, with their audit entries. The arguments
 * are encoded now; the returned function runs the script.
 */
export function prepareJobs(
  ctx: RedisContext,
  jobs: NewJob[],
  audits: (NewAuditEntry | undefined)[],
): () => Promise<(Job | null)[]> {
  // The records are the caller's, built for this call: a copy of each top level is enough, and
  // deep-copying every one was a large share of an import's time.
  const stored = jobs.map((job) => insertedJob(job, randomUUID()));
  const args: string[] = [String(jobs.length)];
  stored.forEach((job, index) => {
    const fields = encodeInsertedJob(job);
    // The due index holds an enabled job with a next run, by that instant (see reindex_due).
    const due = job.enabled && job.nextRunAt ? String(job.nextRunAt.getTime()) : '';
    args.push(
      job.id,
      jobNameKey(job.tenantId, job.name),
      tenantToken(job.tenantId),
      due,
      String(fields.length),
    );
    for (const field of fields) args.push(field);
    for (const arg of auditArgs(audits[index])) args.push(arg);
  });
  return async () => {
    const reply = (await ctx.run(SCRIPTS.insertJobs, args)) as number[];
    return stored.map((job, index) => (reply[index] === 1 ? job : null));
  };
}
