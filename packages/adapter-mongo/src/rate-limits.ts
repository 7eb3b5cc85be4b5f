import type { RateLimitSpec, RateLimitVerdict } from '@cronkeeper/core';
import type { Collection } from 'mongodb';
import { asNumber } from './documents.js';
import { isDuplicateKey } from './driver.js';
import { rateLimitPipeline, retryAfterMs, unhitPipeline } from './queries.js';

/** A rate-limit key's document: the instants (ms) of the hits in its window. */
export interface RateLimitDocument {
  _id: string;
  hits: number[];
  allowed: boolean;
  expiresAt: Date;
}

/** Rate-limit documents outlive their window by this much before the TTL index removes them. */
const SLACK_MS = 3_600_000;
const ATTEMPTS = 3;

/** One hit against `key`: a single-document update pipeline, so concurrent hits are serialised. */
export async function hitRateLimit(
  limits: Collection<RateLimitDocument>,
  input: { key: string; limit: number; windowMs: number; now: Date },
): Promise<{ allowed: boolean; retryAfterMs: number }> {
  if (input.limit <= 0) return { allowed: false, retryAfterMs: input.windowMs };
  // Wall-clock expiry only tidies the collection; the window itself is judged on `now`.
  const expiresAt = new Date(Date.now() + input.windowMs + SLACK_MS);
  const update = rateLimitPipeline({ ...input, expiresAt });
  for (let attempt = 1; ; attempt++) {
    try {
      const doc = await limits.findOneAndUpdate({ _id: input.key }, update, {
        returnDocument: 'after',
        upsert: true,
      });
      if (!doc) throw new Error(`rate limit "${input.key}": the upsert returned no document`);
      if (doc.allowed) return { allowed: true, retryAfterMs: 0 };
      const hits = doc.hits.map(asNumber);
      return { allowed: false, retryAfterMs: retryAfterMs(hits, input.limit, input.windowMs, input.now) };
    } catch (error) {
      // Two first hits on a new key may both try to insert it; the loser retries as an update.
      if (!isDuplicateKey(error) || attempt >= ATTEMPTS) throw error;
    }
  }
}

/**
 * Several windows, all counted or none. MongoDB changes one document atomically, not several
 * (without a replica-set transaction), so the keys are hit in order and, when one is full, the
 * hits already counted are taken back before answering. The outcome is all or nothing; while
 * the take-back is in flight a concurrent caller may find a key fuller than it ends up, so a
 * race can refuse a hit it would have allowed, never allow one over a limit.
 */
export async function consumeRateLimits(
  limits: Collection<RateLimitDocument>,
  input: { limits: readonly RateLimitSpec[]; now: Date },
): Promise<RateLimitVerdict> {
  const counted: string[] = [];
  for (const spec of input.limits) {
    let verdict: { allowed: boolean; retryAfterMs: number };
    try {
      verdict = await hitRateLimit(limits, { ...spec, now: input.now });
    } catch (error) {
      await takeBack(limits, counted, input.now);
      throw error;
    }
    if (!verdict.allowed) {
      await takeBack(limits, counted, input.now);
      return { allowed: false, retryAfterMs: verdict.retryAfterMs, deniedKey: spec.key };
    }
    counted.push(spec.key);
  }
  return { allowed: true, retryAfterMs: 0, deniedKey: null };
}

async function takeBack(limits: Collection<RateLimitDocument>, keys: string[], now: Date): Promise<void> {
  await Promise.all(keys.map((key) => limits.updateOne({ _id: key }, unhitPipeline(now))));
}
