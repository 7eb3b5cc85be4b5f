import { randomUUID } from 'node:crypto';
import {
  byNameThenTenant,
  ConflictError,
  type Job,
  type JobFilter,
  type JobPatch,
  type NewAuditEntry,
  type NewJob,
} from '@cronkeeper/core';
import { auditArgs } from './audit.js';
import { decodeJob, encodeJobPatch, encodeNewJob } from './codec.js';
import type { RedisContext } from './context.js';
import { jobNameKey, tenantToken } from './keys.js';
import { SCRIPTS } from './scripts.js';

const ms = (date: Date): string => String(date.getTime());

function conflictMessage(tenantId: string | null, name: string): string {
  const where = tenantId === null ? 'as a global job' : `in tenant "${tenantId}"`;
  return `a job named "${name}" already exists ${where}: pick another name or update that job`;
}

/** Job definitions: CRUD on the job hashes, with the name map and due indexes kept by the scripts. */
export class JobRecords {
  constructor(private readonly ctx: RedisContext) {}

  async insert(input: NewJob, audit?: NewAuditEntry): Promise<Job> {
    const id = randomUUID();
    const fields = encodeNewJob(input, id);
    const inserted = await this.ctx.run(SCRIPTS.insertJob, [
      id,
      jobNameKey(input.tenantId, input.name),
      tenantToken(input.tenantId),
      String(fields.length),
      ...fields,
      ...auditArgs(audit),
    ]);
    if (inserted !== 1) throw new ConflictError(conflictMessage(input.tenantId, input.name));
    return { ...structuredClone(input), id, version: 1 };
  }

  async get(id: string): Promise<Job | null> {
    return decodeJob(await this.ctx.client.call('hgetall', this.ctx.keys.job(id)));
  }

  /** Many jobs in one round trip; absent ones are left out. */
  getMany(ids: readonly string[]): Promise<Job[]> {
    return this.ctx.readAll(
      ids.map((id) => this.ctx.keys.job(id)),
      decodeJob,
    );
  }

  async findByName(tenantId: string | null, name: string): Promise<Job | null> {
    const id = (await this.ctx.client.call('hget', this.ctx.keys.jobNames, jobNameKey(tenantId, name))) as
      | string
      | null;
    if (id === null) return null;
    const job = await this.get(id);
    // Renamed or deleted between the two reads: the name is no longer this job's.
    return job && job.name === name && job.tenantId === tenantId ? job : null;
  }

  async list(filter: JobFilter): Promise<Job[]> {
    if (filter.tenantIds?.length === 0) return [];
    const { client, keys } = this.ctx;
    const ids = (
      filter.tenantIds
        ? await client.call(
            'sunion',
            ...[...new Set(filter.tenantIds.map(tenantToken))].map((tenant) => keys.jobsOfTenant(tenant)),
          )
        : await client.call('smembers', keys.jobs)
    ) as string[];
    const jobs = await this.ctx.readAll(
      ids.map((id) => keys.job(id)),
      decodeJob,
    );
    return jobs
      .filter((job) => filter.enabled === undefined || job.enabled === filter.enabled)
      .filter((job) => !filter.tenantIds || filter.tenantIds.includes(job.tenantId))
      .sort(byNameThenTenant);
  }

  async update(input: {
    id: string;
    expectedVersion: number;
    patch: JobPatch;
    now: Date;
    audit?: NewAuditEntry;
  }): Promise<Job | null> {
    const snapshot = await this.get(input.id);
    // The name key is derived from the version read here; the script applies it only if that version still holds.
    if (!snapshot || snapshot.version !== input.expectedVersion) return null;
    const tenantId = input.patch.tenantId !== undefined ? input.patch.tenantId : snapshot.tenantId;
    const name = input.patch.name ?? snapshot.name;
    const { set, unset } = encodeJobPatch(input.patch as Record<string, unknown>);
    const reply = (await this.ctx.run(SCRIPTS.updateJob, [
      input.id,
      String(input.expectedVersion),
      jobNameKey(tenantId, name),
      tenantToken(tenantId),
      ms(input.now),
      String(set.length),
      ...set,
      String(unset.length),
      ...unset,
      ...auditArgs(input.audit),
    ])) as [string, unknown];
    if (reply[0] === 'conflict') throw new ConflictError(conflictMessage(tenantId, name));
    if (reply[0] !== 'ok') return null;
    return decodeJob(reply[1]);
  }

  async delete(input: { id: string; now: Date; audit?: NewAuditEntry }): Promise<boolean> {
    return (
      (await this.ctx.run(SCRIPTS.deleteJob, [input.id, ms(input.now), ...auditArgs(input.audit)])) === 1
    );
  }
}
