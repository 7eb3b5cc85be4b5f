import { redisStore } from '@cronkeeper/adapter-redis';
import { ValidationError } from '@cronkeeper/core';
import { at, newRun, SECOND } from '@cronkeeper/core/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connect, deleteKeysUnder, redisAvailable, uniquePrefix } from './redis.js';

// A selective runs filter must not read the whole history in one call, and a forged cursor is the
// caller's 400, never the store's 503.
const RUNS = 5000;
const prefix = uniquePrefix('listing');
let client: Redis;

const forge = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

describe.skipIf(!redisAvailable)('redis runs listing bounds', () => {
  const store = () => redisStore({ redis: client, prefix });

  beforeAll(async () => {
    client = connect();
    const s = store();
    await s.init();
    // The one backfill run is the oldest; thousands of manual runs come after it.
    await s.createRun({
      run: newRun({ trigger: 'backfill', createdAt: at(0), runAt: at(0), concurrencyKey: 'backfill' }),
      now: at(0),
      rejectIfActive: false,
    });
    for (let start = 1; start <= RUNS; start += 250)
      await Promise.all(
        Array.from({ length: 250 }, (_, i) => {
          const t = at((start + i) * SECOND);
          return s.createRun({
            run: newRun({ createdAt: t, runAt: t, concurrencyKey: `k${start + i}` }),
            now: t,
            rejectIfActive: false,
          });
        }),
      );
  }, 120_000);

  afterAll(async () => {
    if (!client) return;
    await deleteKeysUnder(client, prefix);
    client.disconnect();
  });

  it('answers a filter matching only the oldest of many runs in bounded reads per page, with a cursor that reaches it', async () => {
    const s = store();
    const pipelines = vi.spyOn(client, 'pipeline');
    const first = await s.listRuns({ triggers: ['backfill'], limit: 10 });
    // Sizing plus a bounded number of batches, not one per hundred runs of the whole history.
    expect(pipelines.mock.calls.length).toBeLessThanOrEqual(45);
    expect(first.items).toHaveLength(0);
    expect(first.nextCursor).not.toBeNull();
    let page = first;
    let pages = 1;
    while (page.items.length === 0 && page.nextCursor) {
      pipelines.mockClear();
      page = await s.listRuns({ triggers: ['backfill'], limit: 10, cursor: page.nextCursor });
      expect(pipelines.mock.calls.length).toBeLessThanOrEqual(45);
      pages++;
    }
    pipelines.mockRestore();
    expect(page.items.map((run) => run.trigger)).toEqual(['backfill']);
    expect(page.nextCursor).toBeNull();
    expect(pages).toBeLessThanOrEqual(4);
  });

  it('refuses forged cursors with a ValidationError on cursor', async () => {
    const s = store();
    for (const cursor of [
      forge([1e300, 'abc']),
      forge([-1e300, 'abc']),
      forge([Number.MAX_SAFE_INTEGER, 'abc']),
      forge([-1, 'abc']),
      forge([1000, 'a b']),
      forge([1000, 'x'.repeat(500)]),
      forge([1000, '\u0000']),
    ]) {
      const error = await s.listRuns({ limit: 10, cursor }).then(
        () => null,
        (caught: unknown) => caught,
      );
      expect(error, cursor).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).path).toBe('cursor');
    }
  });
});
