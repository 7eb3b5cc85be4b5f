import {
  type Duration,
  type RateLimitSpec,
  type RateLimitVerdict,
  type Scheduler,
  StoreError,
  toMs,
} from '@cronkeeper/core';
import { rateLimited } from './errors.js';
import type { RateLimitsOption, TriggerLimit } from './options.js';

/** The default limits: one manual run per job every 30 s, ten in all per minute. */
export const DEFAULT_RATE_LIMITS: Required<RateLimitsOption> = {
  perJob: { limit: 1, window: '30s' },
  total: { limit: 10, window: '1m' },
};

interface Limit {
  limit: number;
  windowMs: number;
}

function resolve(limit: TriggerLimit | false | undefined, fallback: TriggerLimit | false): Limit | null {
  const chosen = limit === undefined ? fallback : limit;
  if (chosen === false) return null;
  return { limit: chosen.limit, windowMs: toMs(chosen.window as Duration, 'rateLimits.window') };
}

/** What a manual run is counted against: a job (by id, so a rename keeps its slot) or an executor run alone. */
export type LimitedTarget = { job: { id: string; name: string } } | { executor: string };

/** A store key from its parts, encoded so that no two lists of parts give the same key. */
function keyOf(...parts: (string | null)[]): string {
  return JSON.stringify(['cronkeeper', ...parts]);
}

/**
 * Manual-trigger limits, counted through `store.consumeRateLimits` so every instance sharing the
 * store shares the counts. A run is counted on the target's window and its tenant's total at
 * once, or on neither: a refusal by one limit spends nothing of the other. The total is per
 * tenant (global runs have their own), so one tenant cannot use up another's "Run now".
 */
export class TriggerLimiter {
  readonly #perTarget: Limit | null;
  readonly #total: Limit | null;

  constructor(
    private readonly scheduler: Scheduler,
    option: RateLimitsOption | false | undefined,
    private readonly now: () => Date,
  ) {
    const limits = option === false ? { perJob: false as const, total: false as const } : (option ?? {});
    this.#perTarget = resolve(limits.perJob, DEFAULT_RATE_LIMITS.perJob);
    this.#total = resolve(limits.total, DEFAULT_RATE_LIMITS.total);
  }

  /**
   * Count one run of `target` in `tenantId`; throws a 429 `HttpError` when a window is full. A run
   * due `inMs` from now (a one-off) counts against each window it falls in, as a trigger would.
   */
  async hit(target: LimitedTarget, tenantId: string | null, options: { inMs?: number } = {}): Promise<void> {
    const inMs = options.inMs ?? 0;
    const label = 'job' in target ? `job "${target.job.name}"` : `executor "${target.executor}"`;
    const windows: { spec: RateLimitSpec; refusal: string }[] = [];
    const perTarget = this.#perTarget;
    if (perTarget && inMs < perTarget.windowMs)
      windows.push({
        spec: {
          key:
            'job' in target
              ? keyOf('trigger', 'job', tenantId, target.job.id)
              : keyOf('trigger', 'executor', tenantId, target.executor),
          limit: perTarget.limit,
          windowMs: perTarget.windowMs,
        },
        refusal: `${label} was run by hand less than ${perTarget.windowMs / 1000} s ago (one-offs due that soon count too); try again later`,
      });
    const total = this.#total;
    if (total && inMs < total.windowMs)
      windows.push({
        spec: { key: keyOf('trigger', 'total', tenantId), limit: total.limit, windowMs: total.windowMs },
        refusal: `too many manual triggers (${total.limit} per ${total.windowMs / 1000} s${tenantId === null ? '' : ' for this tenant'}, one-offs due that soon included); try again later`,
      });
    if (windows.length === 0) return;
    let verdict: RateLimitVerdict;
    try {
      verdict = await this.scheduler.store.consumeRateLimits({
        limits: windows.map((window) => window.spec),
        now: this.now(),
      });
    } catch (error) {
      throw new StoreError(`store.consumeRateLimits failed: ${(error as Error)?.message}`, { cause: error });
    }
    if (verdict.allowed) return;
    const refused = windows.find((window) => window.spec.key === verdict.deniedKey) ?? windows[0];
    throw rateLimited(refused?.refusal ?? 'too many manual triggers; try again later', verdict.retryAfterMs);
  }
}
