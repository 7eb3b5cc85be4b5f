/** Sliding-window counters for manual-trigger limits, one list of hit instants per key. */
export class RateLimiter {
  readonly #hits = new Map<string, number[]>();

  /** Count a hit at `now` unless `limit` hits already fall in the window `(now - windowMs, now]`. */
  hit(input: { key: string; limit: number; windowMs: number; now: Date }): {
    allowed: boolean;
    retryAfterMs: number;
  } {
    const now = input.now.getTime();
    const windowStart = now - input.windowMs;
    const hits = (this.#hits.get(input.key) ?? []).filter((hit) => hit > windowStart);
    if (input.limit <= 0) return { allowed: false, retryAfterMs: input.windowMs };
    if (hits.length >= input.limit) {
      this.#keep(input.key, hits);
      // Enough hits must leave the window for one more to fit: the one `limit` places from the end.
      const blocking = hits[hits.length - input.limit] as number;
      return { allowed: false, retryAfterMs: Math.max(0, blocking + input.windowMs - now) };
    }
    let index = hits.length;
    while (index > 0 && (hits[index - 1] as number) > now) index -= 1;
    hits.splice(index, 0, now);
    this.#keep(input.key, hits);
    return { allowed: true, retryAfterMs: 0 };
  }

  #keep(key: string, hits: number[]): void {
    if (hits.length === 0) this.#hits.delete(key);
    else this.#hits.set(key, hits);
  }
}
