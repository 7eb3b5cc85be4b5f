import { describe, expect, it } from 'vitest';
import type { RateLimitSpec, Store } from '../store.js';
import type { ContractFixture } from './harness.js';
import { at, MINUTE, SECOND, T0 } from './records.js';
import { race } from './steps.js';

const perJob = (key: string): RateLimitSpec => ({ key, limit: 1, windowMs: 30 * SECOND });
const total = (limit: number): RateLimitSpec => ({ key: 'total', limit, windowMs: MINUTE });

/** How many hits `key` holds in its window at `now`: probes limits upwards until one is refused. */
async function hitsIn(store: Store, key: string, windowMs: number, now: Date): Promise<number> {
  for (let limit = 1; limit <= 50; limit++) {
    const probe = await store.consumeRateLimits({ limits: [{ key, limit, windowMs }], now });
    if (probe.allowed) return limit - 1;
  }
  throw new Error(`key "${key}" holds more than 50 hits`);
}

/**
 * consumeRateLimits: several windows counted all together or not at all, so a request refused by
 * one limit (the total) spends nothing of another (the job's own slot), across instances.
 */
export function atomicRateLimitContract(fixture: () => ContractFixture): void {
  describe('consumeRateLimits', () => {
    it('counts on every key when all have room; a full key refuses the hit on every key', async () => {
      const { store } = fixture();
      const consume = (limits: RateLimitSpec[], offset: number) =>
        store.consumeRateLimits({ limits, now: at(offset) });
      expect(await consume([perJob('job-a'), total(2)], 0)).toEqual({
        allowed: true,
        retryAfterMs: 0,
        deniedKey: null,
      });
      expect((await consume([perJob('job-b'), total(2)], SECOND)).allowed).toBe(true);
      // The total is full: job-c's own slot must not be spent by this refusal.
      expect(await consume([perJob('job-c'), total(2)], 2 * SECOND)).toEqual({
        allowed: false,
        retryAfterMs: MINUTE - 2 * SECOND,
        deniedKey: 'total',
      });
      expect((await consume([perJob('job-c')], 3 * SECOND)).allowed).toBe(true);
      // job-a's own limit refuses first (input order), and the total is not spent either.
      expect(await consume([perJob('job-a'), total(3)], 4 * SECOND)).toEqual({
        allowed: false,
        retryAfterMs: 30 * SECOND - 4 * SECOND,
        deniedKey: 'job-a',
      });
      expect(await hitsIn(store, 'total', MINUTE, at(5 * SECOND))).toBe(2);
      // Once the hits leave their windows there is room again.
      expect((await consume([perJob('job-a'), total(2)], MINUTE + 5 * SECOND)).allowed).toBe(true);
    });

    it('treats keys as opaque strings, allows an empty list, and refuses a limit of 0 without counting', async () => {
      const { store } = fixture();
      const now = T0;
      const consume = (limits: RateLimitSpec[]) => store.consumeRateLimits({ limits, now });
      expect(await consume([])).toEqual({ allowed: true, retryAfterMs: 0, deniedKey: null });
      for (const key of ['["A:x","y"]', '["A","x:y"]', 'A:x:y', 'ключ 🔑', 'a'.repeat(300)])
        expect((await consume([{ key, limit: 1, windowMs: MINUTE }])).allowed, key).toBe(true);
      expect(await consume([perJob('other'), { key: 'closed', limit: 0, windowMs: MINUTE }])).toEqual({
        allowed: false,
        retryAfterMs: MINUTE,
        deniedKey: 'closed',
      });
      expect((await consume([perJob('other')])).allowed).toBe(true);
    });

    it('lets exactly the total through when 20 callers on 2 instances race, spending no refused slot', async () => {
      const stores = await fixture().instances(2);
      const results = await race(stores, 20, (store, index) =>
        store.consumeRateLimits({ limits: [perJob(`job-${index}`), total(5)], now: T0 }),
      );
      const allowed = results.filter((result) => result.allowed);
      expect(allowed).toHaveLength(5);
      for (const result of results.filter((outcome) => !outcome.allowed))
        expect(result).toEqual({ allowed: false, retryAfterMs: MINUTE, deniedKey: 'total' });
      const [store] = stores as [Store];
      for (const [index, result] of results.entries()) {
        const own = await store.consumeRateLimits({ limits: [perJob(`job-${index}`)], now: at(SECOND) });
        // A caller let through spent its own slot; a refused one did not.
        expect(own.allowed, `job-${index}`).toBe(!result.allowed);
      }
      expect(await hitsIn(store, 'total', MINUTE, at(SECOND))).toBe(5);
    });

    it('keeps every window exact when callers race on overlapping keys given in any order', async () => {
      const stores = await fixture().instances(2);
      const a = { key: 'a', limit: 5, windowMs: MINUTE };
      const b = { key: 'b', limit: 5, windowMs: MINUTE };
      const shared = { key: 't', limit: 4, windowMs: MINUTE };
      const sets: RateLimitSpec[][] = [
        [a, shared],
        [shared, b],
        [b, a],
      ];
      const results = await race(stores, 24, (store, index) =>
        store.consumeRateLimits({ limits: sets[index % 3] as RateLimitSpec[], now: T0 }),
      );
      const counted = { a: 0, b: 0, t: 0 };
      results.forEach((result, index) => {
        if (!result.allowed) return;
        for (const spec of sets[index % 3] as RateLimitSpec[]) counted[spec.key as 'a' | 'b' | 't'] += 1;
      });
      expect(counted.t).toBeLessThanOrEqual(4);
      expect(counted.a).toBeLessThanOrEqual(5);
      expect(counted.b).toBeLessThanOrEqual(5);
      expect(counted.a + counted.b).toBeGreaterThan(0);
      const [store] = stores as [Store];
      // What each key holds is exactly what allowed callers counted: refusals left nothing behind.
      for (const key of ['a', 'b', 't'] as const)
        expect(await hitsIn(store, key, MINUTE, at(SECOND)), key).toBe(counted[key]);
    });
  });
}
