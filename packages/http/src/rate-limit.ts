import { type Duration, type Scheduler, StoreError, toMs } from '@cronkeeper/core';
import { rateLimited } from './errors.js';
import type { RateLimitsOption, TriggerLimit } from './options.js';

/** Seed 004's limits: one manual run per job every 30 s, ten in all per minute. */
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

/**
 * Manual-trigger limits counted through `store.hitRateLimit`, so every instance sharing the store
 * shares the counts. The per-target limit is checked first: a double click is refused without
 * spending the shared budget.
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

  async #count(key: string, limit: Limit) {
    try {
      return await this.scheduler.store.hitRateLimit({
        key,
        limit: limit.limit,
        windowMs: limit.windowMs,
        now: this.now(),
      });
    } catch (error) {
      throw new StoreError(`store.hitRateLimit failed: ${(error as Error)?.message}`, { cause: error });
    }
  }

  /** Count one trigger of `target` (a key such as `job:acme:nightly`; `label` names it in the message); throws a 429 `HttpError` when over a limit. */
  async hit(target: string, label: string): Promise<void> {
    if (this.#perTarget) {
      const result = await this.#count(`cronkeeper:trigger:${target}`, this.#perTarget);
      if (!result.allowed)
        throw rateLimited(
          `${label} was triggered less than ${this.#perTarget.windowMs / 1000} s ago; try again later`,
          result.retryAfterMs,
        );
    }
    if (this.#total) {
      const result = await this.#count('cronkeeper:trigger:*', this.#total);
      if (!result.allowed)
        throw rateLimited(
          `too many manual triggers (${this.#total.limit} per ${this.#total.windowMs / 1000} s); try again later`,
          result.retryAfterMs,
        );
    }
  }
}
