import {
  type AuditEntry,
  type AuditFilter,
  type AuditPage,
  decodeAuditCursor,
  encodeAuditCursor,
  type NewAuditEntry,
  type TenantIds,
  ValidationError,
} from '@cronkeeper/core';
import { execPipeline, type RedisClientLike } from './client.js';
import { hashReply } from './codec.js';
import type { RedisContext } from './context.js';
import { sortableMs, tenantToken } from './keys.js';
import { newestBefore } from './newest-before.js';
import { SCRIPTS } from './scripts.js';

/** Index members read per round trip while walking a filtered listing. */
const BATCH = 100;
/**
 * Index members one page looks at, at most. The job-name index holds every tenant's entries of that
 * name, so a tenant's `?job=` filters out the others': past this many, the page ends early (fewer
 * entries, maybe none) with a cursor after the last member looked at, so one request's work stays
 * bounded however many entries another tenant piled up under the same name.
 */
const SCAN_BUDGET = 1_000;
/** Entries looked at per pruning script call, so one call never blocks Redis for long. */
const PRUNE_BATCH = 1_000;
const SEQUENCE = /^[1-9]\d{0,15}$/;

/** Key names of the audit trail (the Lua prelude builds the same from the root). */
export function auditKeys(root: string) {
  return {
    entry: (id: string) => `${root}audit:e:${id}`,
    all: `${root}audit:h`,
    tenant: (token: string) => `${root}audit:h:t:${token}`,
    job: (name: string) => `${root}audit:h:n:${name}`,
  };
}

/** An entry as the script arguments read by `read_audit`; `['0']` for none. */
export function auditArgs(entry: NewAuditEntry | undefined): string[] {
  if (!entry) return ['0'];
  // Field by field: a rest pattern (`{ at, ...rest }`) copies slowly, and an import audits every job.
  const value = {
    actor: entry.actor,
    action: entry.action,
    job: entry.job,
    tenantId: entry.tenantId,
    before: entry.before,
    after: entry.after,
    note: entry.note,
  };
  return [
    '1',
    String(entry.at.getTime()),
    tenantToken(entry.tenantId),
    entry.job ?? '',
    JSON.stringify(value),
  ];
}

function member(at: number, id: string): string {
  return `${sortableMs(at)}:${id.padStart(16, '0')}`;
}

/** The entry id a member ends with (zero-padded there). */
function idOfMember(text: string): string {
  return String(Number(text.slice(text.lastIndexOf(':') + 1)));
}

function decodeEntry(id: string, hash: Record<string, string>): AuditEntry {
  const value = JSON.parse(hash.v as string) as Omit<AuditEntry, 'id' | 'at'>;
  const after = hash.r === undefined ? value.after : { ...(value.after ?? {}), runId: hash.r };
  return {
    id,
    at: new Date(Number(hash.at)),
    actor: value.actor ?? null,
    action: value.action,
    job: value.job ?? null,
    tenantId: value.tenantId ?? null,
    before: value.before ?? null,
    after: after ?? null,
    note: value.note ?? null,
  };
}

/**
 * One index, newest first from `upper` (exclusive) down to `lower`, read a batch at a time; the
 * entries come back decoded, with those `keep` rejects left out.
 */
async function walk(
  client: RedisClientLike,
  keys: ReturnType<typeof auditKeys>,
  index: string,
  bounds: { upper: string; lower: string },
  wanted: number,
  keep: (entry: AuditEntry) => boolean,
): Promise<{ found: { member: string; entry: AuditEntry }[]; stoppedAt: AuditEntry | null }> {
  const found: { member: string; entry: AuditEntry }[] = [];
  let upper = bounds.upper;
  let scanned = 0;
  let lastSeen: AuditEntry | null = null;
  while (found.length < wanted) {
    if (scanned >= SCAN_BUDGET) return { found, stoppedAt: lastSeen };
    const members = (await client.call(
      'zrevrangebylex',
      index,
      upper,
      bounds.lower,
      'LIMIT',
      0,
      BATCH,
    )) as string[];
    if (members.length === 0) break;
    const pipeline = client.pipeline();
    const ids = members.map(idOfMember);
    for (const id of ids) pipeline.call('hgetall', keys.entry(id));
    const replies = await execPipeline(pipeline);
    members.forEach((text, position) => {
      const hash = hashReply(replies[position]);
      // An entry pruned between the two reads is simply gone.
      if (!hash) return;
      const entry = decodeEntry(ids[position] as string, hash);
      if (keep(entry) && found.length < wanted) found.push({ member: text, entry });
      if (found.length < wanted) lastSeen = entry;
    });
    scanned += members.length;
    upper = `(${members[members.length - 1]}`;
    if (members.length < BATCH) break;
  }
  return { found, stoppedAt: null };
}

/** A page of entries, newest first: one index (job name, tenant, or all) walked from the cursor. */
export async function listAudit(ctx: RedisContext, filter: AuditFilter): Promise<AuditPage> {
  const keys = auditKeys(ctx.keys.root);
  let upper = '+';
  if (filter.cursor) {
    const after = decodeAuditCursor(filter.cursor);
    if (!SEQUENCE.test(after.id))
      throw ValidationError.field('cursor', 'is not a cursor returned by a previous page');
    upper = `(${member(after.at, after.id)}`;
  }
  // A page holds fewer entries than one walk's budget, so every walk can fill it (or reach the end)
  // and a full page always gets its cursor; a larger limit gets a shorter page, which a caller
  // reads on from with the cursor like any other.
  const limit = Math.min(Math.max(0, filter.limit), SCAN_BUDGET - 1);
  if (limit === 0 || filter.tenantIds?.length === 0) return { items: [], nextCursor: null };
  const bounds = { upper, lower: filter.since ? `[${sortableMs(filter.since.getTime())}` : '-' };
  const tenants = filter.tenantIds ? new Set(filter.tenantIds) : null;
  const wanted = limit + 1;
  let found: { member: string; entry: AuditEntry }[];
  if (filter.job !== undefined) {
    const walked = await walk(ctx.client, keys, keys.job(filter.job), bounds, wanted, (entry) =>
      tenants ? tenants.has(entry.tenantId) : true,
    );
    if (walked.stoppedAt) {
      // Out of budget: what was found, and a cursor after the last entry looked at; when that
      // entry is another tenant's, after the caller's newest entry before it instead.
      const items = walked.found.map(({ entry }) => entry);
      let stop: AuditEntry | null = walked.stoppedAt;
      if (tenants && !tenants.has(stop.tenantId)) {
        // Every entry the shared job-name index holds between that point and the caller's newest
        // earlier entry is someone else's: ending there skips none the caller may see.
        stop = await newestBefore(
          ctx.client,
          [...tenants].map((tenantId) => keys.tenant(tenantToken(tenantId))),
          member(stop.at.getTime(), stop.id),
          bounds.lower,
          async (found) => {
            const id = idOfMember(found);
            const hash = hashReply(await ctx.client.call('hgetall', keys.entry(id)));
            return hash ? decodeEntry(id, hash) : null;
          },
        );
        if (stop && stop.job === filter.job) items.push(stop);
      }
      const page = items.slice(0, limit);
      const last = items.length > limit ? page[page.length - 1] : stop;
      return {
        items: page,
        nextCursor: last ? encodeAuditCursor({ at: last.at.getTime(), id: last.id }) : null,
      };
    }
    found = walked.found;
  } else if (tenants) {
    // Each tenant's index holds only its entries: the newest `wanted` of each, merged, suffice.
    const perTenant = await Promise.all(
      [...tenants].map((tenantId) =>
        walk(ctx.client, keys, keys.tenant(tenantToken(tenantId)), bounds, wanted, () => true),
      ),
    );
    found = perTenant
      .flatMap((walked) => walked.found)
      .sort((a, b) => (a.member < b.member ? 1 : a.member > b.member ? -1 : 0))
      .slice(0, wanted);
  } else {
    found = (await walk(ctx.client, keys, keys.all, bounds, wanted, () => true)).found;
  }
  const items = found.slice(0, limit).map(({ entry }) => entry);
  const last = items[items.length - 1];
  return {
    items,
    nextCursor:
      found.length > limit && last ? encodeAuditCursor({ at: last.at.getTime(), id: last.id }) : null,
  };
}

/** Delete entries recorded before `before` (in these tenants), a batch per script call. */
export async function pruneAudit(
  ctx: RedisContext,
  input: { before: Date; tenantIds?: TenantIds },
): Promise<number> {
  if (input.tenantIds?.length === 0) return 0;
  const tokens = input.tenantIds ? [...new Set(input.tenantIds.map(tenantToken))] : [];
  let total = 0;
  for (;;) {
    const [looked, deleted] = (await ctx.run(SCRIPTS.pruneAudit, [
      sortableMs(input.before.getTime()),
      String(PRUNE_BATCH),
      String(tokens.length),
      ...tokens,
    ])) as [number, number];
    total += deleted;
    if (looked < PRUNE_BATCH) return total;
  }
}
