import {
  type AuditEntry,
  type AuditFilter,
  type AuditPage,
  decodeAuditCursor,
  encodeAuditCursor,
  type NewAuditEntry,
  type TenantIds,
} from '@cronkeeper/core';
import { inTenants } from './admin-queries.js';
import { copy } from './copy.js';

/** Newest first: `at` desc, then the order of recording (ids are zero-padded sequence numbers). */
function newestFirst(a: AuditEntry, b: AuditEntry): number {
  const byTime = b.at.getTime() - a.at.getTime();
  if (byTime !== 0) return byTime;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** The audit trail: entries in the order recorded, listed newest first. */
export class AuditLog {
  #entries: AuditEntry[] = [];
  #sequence = 0;

  append(entry: NewAuditEntry): AuditEntry {
    this.#sequence += 1;
    const stored: AuditEntry = { ...copy(entry), id: String(this.#sequence).padStart(12, '0') };
    this.#entries.push(stored);
    return stored;
  }

  list(filter: AuditFilter): AuditPage {
    const after = filter.cursor ? decodeAuditCursor(filter.cursor) : null;
    const matches = this.#entries.filter((entry) => {
      if (!inTenants(filter.tenantIds, entry.tenantId)) return false;
      if (filter.job !== undefined && entry.job !== filter.job) return false;
      const at = entry.at.getTime();
      if (filter.since && at < filter.since.getTime()) return false;
      return !(after && (at > after.at || (at === after.at && entry.id >= after.id)));
    });
    matches.sort(newestFirst);
    const items = matches.slice(0, Math.max(0, filter.limit));
    const last = items[items.length - 1];
    const more = matches.length > items.length && last !== undefined;
    return {
      items: items.map((entry) => copy(entry)),
      nextCursor: more ? encodeAuditCursor({ at: last.at.getTime(), id: last.id }) : null,
    };
  }

  prune(before: Date, tenantIds: TenantIds | undefined): number {
    const kept = this.#entries.filter(
      (entry) => entry.at.getTime() >= before.getTime() || !inTenants(tenantIds, entry.tenantId),
    );
    const deleted = this.#entries.length - kept.length;
    this.#entries = kept;
    return deleted;
  }
}
