import type { Collection } from 'mongodb';
import { asNumber } from './documents.js';
import { isDuplicateKey } from './driver.js';
import { rateLimitPipeline, retryAfterMs } from './queries.js';

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
