import {
  type Job,
  jobAsSeenBy,
  NotFoundError,
  type Run,
  runAsSeenBy,
  type Scheduler,
} from '@cronkeeper/core';
import { HttpError } from './errors.js';

/**
 * Tenant rules. A request is either an operator's (`tenant(req)` gave null: every tenant, and
 * `?tenantId=` picks one) or confined to one tenant, which sees its own jobs and runs plus global
 * jobs (read-only), and never another tenant's.
 */

function forbiddenTenant(requested: string | null): HttpError {
  return new HttpError(
    403,
    'FORBIDDEN',
    requested === null
      ? 'this request is confined to its tenant; global objects are read-only here'
      : `this request is confined to its tenant and may not use tenant "${requested}"`,
  );
}

/** The single tenant a request works in: the confined tenant, or the operator's `?tenantId=` (default global). */
export function workingTenant(tenant: string | null, requested: string | null | undefined): string | null {
  if (tenant === null) return requested ?? null;
  if (requested === undefined || requested === tenant) return tenant;
  throw forbiddenTenant(requested);
}

/** The filter of a listing: operators see everything unless they pick; tenants see theirs (plus global where allowed). */
export function listScope(
  tenant: string | null,
  requested: string | null | undefined,
  options: { globalVisible: boolean; includeGlobal?: boolean | undefined },
): { tenantId?: string | null; includeGlobal?: boolean } {
  if (tenant === null) {
    if (requested === undefined) return {};
    return { tenantId: requested, includeGlobal: options.includeGlobal ?? false };
  }
  if (requested === undefined)
    return { tenantId: tenant, includeGlobal: options.includeGlobal ?? options.globalVisible };
  if (requested === tenant)
    return { tenantId: tenant, includeGlobal: options.globalVisible && (options.includeGlobal ?? false) };
  if (requested === null && options.globalVisible) return { tenantId: null };
  throw forbiddenTenant(requested);
}

/** A tenant that only sees its own runs may also not ask for global ones. */
export function runScope(tenant: string | null, requested: string | null | undefined) {
  return listScope(tenant, requested, { globalVisible: false });
}

/** The job a read addresses: a confined tenant's own job, else the global one of that name. */
export async function jobForRead(
  scheduler: Scheduler,
  name: string,
  tenant: string | null,
  requested: string | null | undefined,
): Promise<Job> {
  const tenantId = workingTenant(tenant, requested);
  // A confined tenant falls back to the global job, which core hands over as a tenant may see it.
  const job = await scheduler.jobs.get(name, { tenantId, includeGlobal: tenant !== null });
  return tenant === null ? job : jobAsSeenBy(job, tenant);
}

/** The job a change addresses; a confined tenant naming a global job is refused (403), not told 404. */
export async function jobForWrite(
  scheduler: Scheduler,
  name: string,
  tenant: string | null,
  requested: string | null | undefined,
): Promise<Job> {
  const tenantId = workingTenant(tenant, requested);
  try {
    return await scheduler.jobs.get(name, { tenantId });
  } catch (error) {
    if (!(error instanceof NotFoundError) || tenant === null) throw error;
    const global = await scheduler.jobs.get(name, { tenantId: null }).then(
      () => true,
      (lookup: unknown) => {
        if (lookup instanceof NotFoundError) return false;
        throw lookup;
      },
    );
    if (global) throw new HttpError(403, 'FORBIDDEN', `job "${name}" is global and read-only for tenants`);
    throw error;
  }
}

/** True when a confined tenant may see this job's events and record. */
export function jobVisible(tenant: string | null, jobTenant: string | null): boolean {
  return tenant === null || jobTenant === tenant || jobTenant === null;
}

/** Scheduler-wide operations (run-due, reload, stale sweep, default seed) are for operators only. */
export function requireOperator(tenant: string | null, what: string): void {
  if (tenant !== null)
    throw new HttpError(
      403,
      'FORBIDDEN',
      `${what} affects every tenant; only an operator (no tenant) may do it`,
    );
}

/** A run as the caller may see it: a confined tenant never learns which instance (host, process) ran it. */
export function runFor(tenant: string | null, run: Run): Run {
  return runAsSeenBy(run, tenant);
}

/** A page of runs as the caller may see it (see {@link runFor}). */
export function runPageFor<P extends { items: Run[] }>(tenant: string | null, page: P): P {
  return tenant === null ? page : { ...page, items: page.items.map((run) => runAsSeenBy(run, tenant)) };
}
