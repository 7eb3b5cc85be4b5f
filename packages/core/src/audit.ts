import type { AuditApi, AuditListFilter } from './api.js';
import type { SchedulerContext } from './context.js';
import { encodeAuditCursor } from './cursor.js';
import { storeCall } from './errors.js';
import { auditListSchema } from './operation-schemas.js';
import type { AuditFilter, AuditPage, NewAuditEntry } from './store.js';
import type { AuditAction, AuditEntry, Job, JsonObject, JsonValue } from './types.js';
import { parse } from './validation.js';

/** The fields of a job its audit entries show: what a person defines, not the scheduler's bookkeeping. */
const DEFINITION_FIELDS = [
  'name',
  'description',
  'schedule',
  'timezone',
  'tasks',
  'params',
  'enabled',
  'pausedNote',
  'overlap',
  'misfire',
  'catchUpLimit',
  'misfireGraceMs',
  'timeoutMs',
  'retry',
  'autoPause',
  'jitterMs',
  'priority',
  'activeFrom',
  'activeUntil',
  'metadata',
] as const satisfies readonly (keyof Job)[];

function toJson(value: unknown): JsonValue {
  if (value instanceof Date) return value.toISOString();
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}

/** Nesting past which a value is not walked but round-tripped (which also reports a cycle). */
const MAX_WALK_DEPTH = 64;

/**
 * Whether a JSON round trip would give back `value` unchanged: plain objects and arrays of
 * strings, booleans, null and finite numbers (not -0). Reads only, so checking costs no garbage.
 */
function isPlainJson(value: unknown, depth = 0): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0);
  if (typeof value !== 'object' || depth > MAX_WALK_DEPTH) return false;
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) return false;
    for (let index = 0; index < value.length; index++)
      if (!isPlainJson(value[index], depth + 1)) return false;
    return true;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const key of Object.keys(value))
    if (!isPlainJson((value as Record<string, unknown>)[key], depth + 1)) return false;
  return true;
}

/**
 * A job's definition as JSON (dates as ISO strings), for `created`, `seeded` and `deleted` entries:
 * what a JSON round trip of its fields gives. A field already in that form (the nested params,
 * tasks and policies of a validated job) is taken as it is rather than copied: every store copies
 * or serialises an entry when it records it, and an import builds one per job.
 */
export function definitionOf(job: Pick<Job, (typeof DEFINITION_FIELDS)[number]>): JsonObject {
  const fields: JsonObject = {};
  for (const key of DEFINITION_FIELDS) {
    const value: unknown = job[key];
    if (value === undefined) fields[key] = null;
    else if (value instanceof Date) fields[key] = value.toJSON() as JsonValue;
    else if (isPlainJson(value)) fields[key] = value as JsonValue;
    else {
      const text = JSON.stringify(value) as string | undefined;
      // What JSON leaves out (a function, say) the round trip of the whole definition left out too.
      if (text !== undefined) fields[key] = JSON.parse(text) as JsonValue;
    }
  }
  return fields;
}

/**
 * Whether two JSON values are equal, objects compared by their keys whatever their order: a store
 * may give nested objects back with their keys reordered (PostgreSQL's jsonb sorts them), and a job
 * written back as it was read must not count as changed.
 */
function sameJson(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, index) => sameJson(item, b[index] as JsonValue));
  }
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && sameJson(a[key] as JsonValue, b[key] as JsonValue));
}

/** The definition fields that differ between two versions of a job, before and after. */
export function changedFields(
  before: Pick<Job, (typeof DEFINITION_FIELDS)[number]>,
  after: Pick<Job, (typeof DEFINITION_FIELDS)[number]>,
): { before: JsonObject; after: JsonObject } | null {
  const changed = { before: {} as JsonObject, after: {} as JsonObject };
  let any = false;
  for (const key of DEFINITION_FIELDS) {
    const old = toJson(before[key]);
    const next = toJson(after[key]);
    if (sameJson(old, next)) continue;
    changed.before[key] = old;
    changed.after[key] = next;
    any = true;
  }
  return any ? changed : null;
}

/** An entry about `job`, at `now`. */
export function auditEntry(
  job: { name: string | null; tenantId: string | null },
  entry: {
    action: AuditAction;
    actor: string | null | undefined;
    at: Date;
    before?: JsonObject | null;
    after?: JsonObject | null;
    note?: string | null;
  },
): NewAuditEntry {
  return {
    at: entry.at,
    actor: entry.actor ?? null,
    action: entry.action,
    job: job.name,
    tenantId: job.tenantId,
    before: entry.before ?? null,
    after: entry.after ?? null,
    note: entry.note ?? null,
  };
}

/** Reads the audit trail: who created, changed, paused, deleted or triggered what. */
export class AuditTrail implements AuditApi {
  constructor(
    private readonly ctx: SchedulerContext,
    private readonly ready: () => Promise<void>,
  ) {}

  async list(filter: AuditListFilter = {}): Promise<AuditPage> {
    const parsed = parse(auditListSchema, filter);
    await this.ready();
    const query: AuditFilter = { limit: parsed.limit ?? 50 };
    if (parsed.tenantId !== undefined) query.tenantIds = [parsed.tenantId];
    if (parsed.job !== undefined) query.job = parsed.job;
    if (parsed.since !== undefined) query.since = parsed.since;
    if (parsed.cursor) query.cursor = parsed.cursor;
    return boundedPage(await storeCall('listAudit', () => this.ctx.store.listAudit(query)));
  }
}

/**
 * Characters of JSON one audit page holds at most. Entries carry job definitions (params up to a
 * request body each), so 500 of them could weigh tens of megabytes: a page stops at the first entry
 * past this, and its cursor goes on from there.
 */
export const AUDIT_PAGE_MAX_CHARS = 1_000_000;

function boundedPage(page: AuditPage): AuditPage {
  let chars = 0;
  for (let index = 0; index < page.items.length; index++) {
    const entry = page.items[index] as AuditEntry;
    chars += JSON.stringify(entry).length;
    // The first entry always fits, so every page moves the cursor on.
    if (chars > AUDIT_PAGE_MAX_CHARS && index > 0) {
      const last = page.items[index - 1] as AuditEntry;
      return {
        items: page.items.slice(0, index),
        nextCursor: encodeAuditCursor({ at: last.at.getTime(), id: last.id }),
      };
    }
  }
  return page;
}
