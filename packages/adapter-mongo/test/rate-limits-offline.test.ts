import { T0 } from '@cronkeeper/core/testing';
import type { Collection } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { unhitPipeline } from '../src/queries.js';
import { consumeRateLimits, type RateLimitDocument } from '../src/rate-limits.js';

/** A rate-limit collection that answers each key's hit as scripted and records every take-back. */
function scriptedLimits(answers: Record<string, boolean | Error>) {
  const hits: string[] = [];
  const takeBacks: { key: string; update: unknown }[] = [];
  const collection = {
    async findOneAndUpdate(filter: { _id: string }) {
      hits.push(filter._id);
      const answer = answers[filter._id];
      if (answer instanceof Error) throw answer;
      return { _id: filter._id, hits: [T0.getTime()], allowed: answer ?? true, expiresAt: T0 };
    },
    async updateOne(filter: { _id: string }, update: unknown) {
      takeBacks.push({ key: filter._id, update });
      return { matchedCount: 1 };
    },
  };
  return { limits: collection as unknown as Collection<RateLimitDocument>, hits, takeBacks };
}

const spec = (key: string) => ({ key, limit: 1, windowMs: 30_000 });

describe('consumeRateLimits on MongoDB (offline)', () => {
  it('takes back the hits already counted when a later key is full, and names that key', async () => {
    const { limits, hits, takeBacks } = scriptedLimits({ job: true, tenant: false });
    const verdict = await consumeRateLimits(limits, { limits: [spec('job'), spec('tenant')], now: T0 });
    expect(verdict).toMatchObject({ allowed: false, deniedKey: 'tenant' });
    expect(hits).toEqual(['job', 'tenant']);
    expect(takeBacks).toEqual([{ key: 'job', update: unhitPipeline(T0) }]);
  });

  it('stops at the first full key without touching the later ones, and takes nothing back', async () => {
    const { limits, hits, takeBacks } = scriptedLimits({ job: false });
    const verdict = await consumeRateLimits(limits, { limits: [spec('job'), spec('tenant')], now: T0 });
    expect(verdict).toMatchObject({ allowed: false, deniedKey: 'job' });
    expect(hits).toEqual(['job']);
    expect(takeBacks).toEqual([]);
  });

  it('takes back what it counted when the server fails mid-way, then reports the failure', async () => {
    const outage = Object.assign(new Error('connection reset'), { code: 6 });
    const { limits, takeBacks } = scriptedLimits({ a: true, b: true, c: outage });
    await expect(
      consumeRateLimits(limits, { limits: [spec('a'), spec('b'), spec('c')], now: T0 }),
    ).rejects.toThrow('connection reset');
    expect(takeBacks.map((call) => call.key).sort()).toEqual(['a', 'b']);
  });

  it('counts on every key when all have room', async () => {
    const { limits, hits, takeBacks } = scriptedLimits({});
    expect(await consumeRateLimits(limits, { limits: [spec('a'), spec('b')], now: T0 })).toEqual({
      allowed: true,
      retryAfterMs: 0,
      deniedKey: null,
    });
    expect(hits).toEqual(['a', 'b']);
    expect(takeBacks).toEqual([]);
  });

  it('removes a single occurrence of the hit instant, since another caller may share the millisecond', () => {
    const [step] = unhitPipeline(T0);
    const expression = JSON.stringify(step);
    expect(expression).toContain(`"$indexOfArray":[{"$ifNull":["$hits",[]]},${T0.getTime()}]`);
    expect(expression).toContain('"cond":{"$ne":["$$index","$$drop"]}');
    expect(expression).not.toContain('$pull');
  });
});
