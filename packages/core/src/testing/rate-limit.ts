import { describe, expect, it } from 'vitest';
import type { ContractFixture } from './harness.js';
import { at, T0 } from './records.js';
import { race } from './steps.js';

/**
 * consumeRateLimits with one window: a sliding window counted in the store, so limits hold across
 * instances.
 */
export function rateLimitContract(fixture: () => ContractFixture): void {
  describe('consumeRateLimits, one window', () => {
    it('allows limit hits in the window, then denies with the wait until the oldest hit leaves', async () => {
      const { store } = fixture();
      const hit = (offset: number, key = 'trigger:job-1') =>
        store.consumeRateLimits({ limits: [{ key, limit: 2, windowMs: 1000 }], now: at(offset) });
      expect(await hit(0)).toEqual({ allowed: true, retryAfterMs: 0, deniedKey: null });
      expect((await hit(100)).allowed).toBe(true);
      expect(await hit(200)).toEqual({ allowed: false, retryAfterMs: 800, deniedKey: 'trigger:job-1' });
      expect((await hit(200, 'trigger:job-2')).allowed).toBe(true);
      expect(await hit(999)).toEqual({ allowed: false, retryAfterMs: 1, deniedKey: 'trigger:job-1' });
      // Denied hits were not counted: once the first hit leaves the window there is room again.
      expect((await hit(1000)).allowed).toBe(true);
      expect(await hit(1050)).toEqual({ allowed: false, retryAfterMs: 50, deniedKey: 'trigger:job-1' });
      expect((await hit(1100)).allowed).toBe(true);
      expect((await hit(5000)).allowed).toBe(true);
    });

    it('never lets more than limit hits through when 20 callers on 2 instances race', async () => {
      const stores = await fixture().instances(2);
      const results = await race(stores, 20, (store) =>
        store.consumeRateLimits({ limits: [{ key: 'trigger:total', limit: 5, windowMs: 60_000 }], now: T0 }),
      );
      expect(results.filter((result) => result.allowed)).toHaveLength(5);
      for (const result of results.filter((outcome) => !outcome.allowed))
        expect(result.retryAfterMs).toBe(60_000);
    });

    it('a limit of zero refuses every hit for a whole window', async () => {
      const { store } = fixture();
      expect(
        await store.consumeRateLimits({ limits: [{ key: 'off', limit: 0, windowMs: 30_000 }], now: T0 }),
      ).toEqual({ allowed: false, retryAfterMs: 30_000, deniedKey: 'off' });
    });
  });
}
