import { redisStore } from '@cronkeeper/adapter-redis';
import { createScheduler, manualClock } from '@cronkeeper/core';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, deleteKeysUnder, redisAvailable, uniquePrefix } from './redis.js';

const prefix = uniquePrefix('audit-scan');

describe.skipIf(!redisAvailable)('redis audit listing by job for a tenant', () => {
  let client: Redis | undefined;
  afterAll(async () => {
    if (!client) return;
    await deleteKeysUnder(client, prefix);
    await client.quit();
  });

  it("reads a bounded number of entries per page however many another tenant's job of that name piled up", async () => {
    client = connect();
    // Count the index reads each page makes (one per batch of 100 members).
    let indexReads = 0;
    const call = client.call.bind(client) as (...args: unknown[]) => Promise<unknown>;
    (client as unknown as { call: (...args: unknown[]) => Promise<unknown> }).call = (...args) => {
      if (String(args[0]).toLowerCase() === 'zrevrangebylex') indexReads += 1;
      return call(...args);
    };
    const clock = manualClock('2026-03-01T00:00:00Z');
    const scheduler = createScheduler({
      store: redisStore({ redis: client, prefix }),
      clock,
      executors: { noop: { run: async () => null } },
      logger: false,
      maintenanceJobs: false,
      telemetry: false,
    });
    const job = { name: 'shared', schedule: 'hourly', executor: 'noop' } as const;
    await scheduler.jobs.create({ ...job, tenantId: 'victim' });
    await scheduler.jobs.create({ ...job, tenantId: 'evil' });
    for (let index = 0; index < 650; index++) {
      clock.advance('1s');
      await scheduler.jobs.pause('shared', `p${index}`, { tenantId: 'evil' });
      await scheduler.jobs.resume('shared', { tenantId: 'evil' });
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      indexReads = 0;
      const page = await scheduler.audit.list({
        tenantId: 'victim',
        job: 'shared',
        limit: 1,
        ...(cursor ? { cursor } : {}),
      });
      expect(indexReads).toBeLessThanOrEqual(10);
      expect(page.items.every((entry) => entry.tenantId === 'victim')).toBe(true);
      seen.push(...page.items.map((entry) => entry.action));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor && pages < 5);
    expect(seen).toEqual(['created']);
    // Unfiltered readers still get full pages.
    expect((await scheduler.audit.list({ tenantId: 'evil', job: 'shared', limit: 3 })).items).toHaveLength(3);
  }, 60_000);
});
