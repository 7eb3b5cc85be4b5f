import { randomUUID } from 'node:crypto';
import type { CreateRunResult, Job, NewAuditEntry, NewJob, NewRun, Run } from '@cronkeeper/core';
import { auditArgs } from './audit.js';
import { decodeRun, encodeNewJob, encodeNewRun } from './codec.js';
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
  const ids = runs.map(() => randomUUID());
  const args: string[] = [String(runs.length)];
  runs.forEach((run, index) => {
    const fields = encodeNewRun(run, ids[index] as string);
    args.push(ids[index] as string, String(fields.length), ...fields);
  });
  const reply = (await ctx.run(SCRIPTS.createRuns, args)) as [string, unknown?][];
  // The records are the caller's, built for this call: a copy of each top level is enough, and
  // deep-copying every one was a large share of an import's time.
  return runs.map((run, index): CreateRunResult => {
    const [outcome, holder] = reply[index] ?? [];
    if (outcome === 'c') return { created: true, run: { ...run, id: ids[index] as string } };
    return { created: false, reason: 'duplicate', run: decodeRun(holder) as Run };
  });
}

/** One script: insert the chunk's jobs whose name is free, with their audit entries. */
export async function writeJobs(
  ctx: RedisContext,
  jobs: NewJob[],
  audits: (NewAuditEntry | undefined)[],
): Promise<(Job | null)[]> {
  const ids = jobs.map(() => randomUUID());
  const args: string[] = [String(jobs.length)];
  jobs.forEach((job, index) => {
    const fields = encodeNewJob(job, ids[index] as string);
    args.push(
      ids[index] as string,
      jobNameKey(job.tenantId, job.name),
      tenantToken(job.tenantId),
      String(fields.length),
      ...fields,
      ...auditArgs(audits[index]),
    );
  });
  const reply = (await ctx.run(SCRIPTS.insertJobs, args)) as number[];
  // The records are the caller's, built for this call: a copy of each top level is enough, and
  // deep-copying every one was a large share of an import's time.
  return jobs.map((job, index) =>
    reply[index] === 1 ? { ...job, id: ids[index] as string, version: 1 } : null,
  );
}
