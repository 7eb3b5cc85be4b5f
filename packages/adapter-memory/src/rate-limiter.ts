import type { RateLimitVerdict } from '@cronkeeper/core';

/** Sliding-window counters for manual-trigger limits, one list of hit instants per key. */
export class RateLimiter {
  readonly #hits = new Map<string, number[]>();

  /** Count a hit on every key, or on none when one of them is full (the first such is named). */
  consume(limits: readonly { key: string; limit: number; windowMs: number }[], now: Date): RateLimitVerdict {
    const at = now.getTime();
    for (const { key, limit, windowMs } of limits) {
      const hits = (this.#hits.get(key) ?? []).filter((hit) => hit > at - windowMs);
      this.#keep(key, hits);
      if (limit <= 0) return { allowed: false, retryAfterMs: windowMs, deniedKey: key };
      if (hits.length >= limit) {
        const blocking = hits[hits.length - limit] as number;
        return { allowed: false, retryAfterMs: Math.max(0, blocking + windowMs - at), deniedKey: key };
      }
    }
    for (const { key } of limits) {
      const hits = this.#hits.get(key) ?? [];
      // Keep the instants sorted: a caller's clock may run a little behind another's.
      let index = hits.length;
      while (index > 0 && (hits[index - 1] as number) > at) index -= 1;
      hits.splice(index, 0, at);
      this.#keep(key, hits);
    }
    return { allowed: true, retryAfterMs: 0, deniedKey: null };
  }

  #keep(key: string, hits: number[]): void {
    if (hits.length === 0) this.#hits.delete(key);
    else this.#hits.set(key, hits);
  }
}
