import { redisStore } from '@cronkeeper/adapter-redis';
import { createScheduler, decodeAuditCursor, manualClock, type RunFilter } from '@cronkeeper/core';
import { at, newRun, SECOND } from '@cronkeeper/core/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, deleteKeysUnder, redisAvailable, uniquePrefix } from './redis.js';

// A page that runs out of scan budget on a shared index (by executor, status or job name, which
// hold every tenant's records) ends with a cursor. A tenant-scoped page must never end on another
// tenant's record: the cursor would give the caller that record's id and time.
const prefix = uniquePrefix('tenant-cursor');
let client: Redis;

const cursorId = (cursor: string): string =>
  (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [number, string])[1];

describe.skipIf(!redisAvailable)('redis tenant-scoped listings that run out of scan budget', () => {
  const store = () => redisStore({ redis: client, prefix });
  const own = new Set<string>();
  let ownFailId = '';

  beforeAll(async () => {
    client = connect();
    const s = store();
    await s.init();
    const create = async (overrides: Parameters<typeof newRun>[0]) =>
      (
        await s.createRun({
          run: newRun(overrides),
          now: overrides?.createdAt ?? at(0),
          rejectIfActive: false,
        })
      ).run.id;
    // The caller's one pending `fail` run is the oldest. After it come 2,200 pending runs of `fail`
    // by tenant B and by no tenant (global), interleaved with 2,600 finished runs of the caller's,
    // so the shared indexes (by executor, by status) are smaller than the caller's own history and
    // the listing walks them.
    ownFailId = await create({ executor: 'fail', tenantId: 'A', concurrencyKey: 'a-fail' });
    own.add(ownFailId);
    for (let start = 1; start <= 2_600; start += 200)
      await Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          const n = start + i;
          const t = at(n * SECOND);
          own.add(
            await create({
              executor: 'echo',
              tenantId: 'A',
              status: 'succeeded',
              createdAt: t,
              runAt: t,
              finishedAt: t,
              concurrencyKey: `a${n}`,
            }),
          );
          if (n <= 2_200)
            await create({
              executor: 'fail',
              tenantId: n % 2 ? 'B' : null,
              createdAt: t,
              runAt: t,
              concurrencyKey: `f${n}`,
            });
        }),
      );
  }, 120_000);

  afterAll(async () => {
    if (!client) return;
    await deleteKeysUnder(client, prefix);
    client.disconnect();
  });

  for (const [what, filter] of [
    ['by executor', { executor: 'fail' }],
    ['by status', { statuses: ['pending'] }],
  ] as [string, Partial<RunFilter>][]) {
    it(`filtered ${what}: every cursor names one of the caller's runs, and paging still reaches its match`, async () => {
      const s = store();
      const found: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await s.listRuns({
          ...filter,
          tenantIds: ['A'],
          limit: 1,
          ...(cursor ? { cursor } : {}),
        });
        for (const run of page.items) {
          expect(run.tenantId).toBe('A');
          found.push(run.id);
        }
        cursor = page.nextCursor;
        if (cursor) expect(own.has(cursorId(cursor)), `cursor names ${cursorId(cursor)}`).toBe(true);
        pages += 1;
      } while (cursor && pages < 2_000);
      expect(found).toEqual([ownFailId]);
      // The shared index was walked (a page ran out of budget): else this test proves nothing.
      expect(pages).toBeGreaterThan(1);
    });
  }

  it("the operator's listing still pages through everyone's runs", async () => {
    const page = await store().listRuns({ executor: 'fail', limit: 5 });
    expect(page.items.map((run) => run.tenantId)).toContain('B');
    expect(page.nextCursor).not.toBeNull();
  });

  it("an audit listing by job name never ends on another tenant's entry", async () => {
    const clock = manualClock('2026-03-01T00:00:00Z');
    const scheduler = createScheduler({
      store: redisStore({ redis: client, prefix: `${prefix}audit:` }),
      clock,
      executors: { noop: { run: async () => null } },
      logger: false,
      maintenanceJobs: false,
      telemetry: false,
    });
    const job = { name: 'report', schedule: 'hourly', executor: 'noop' } as const;
    await scheduler.jobs.create({ ...job, tenantId: 'victim' });
    await scheduler.jobs.create({ ...job, tenantId: 'evil' });
    for (let index = 0; index < 600; index++) {
      clock.advance('1s');
      await scheduler.jobs.pause('report', `p${index}`, { tenantId: 'evil' });
      await scheduler.jobs.resume('report', { tenantId: 'evil' });
      // The victim's entries of other jobs are what a page may end on instead.
      if (index % 100 === 0)
        await scheduler.jobs.create({ ...job, name: `other-${index}`, tenantId: 'victim' });
    }
    const victims = new Set(
      (await scheduler.audit.list({ tenantId: 'victim', limit: 100 })).items.map((entry) => entry.id),
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await scheduler.audit.list({
        tenantId: 'victim',
        job: 'report',
        limit: 1,
        ...(cursor ? { cursor } : {}),
      });
      seen.push(...page.items.map((entry) => `${entry.tenantId}:${entry.action}`));
      cursor = page.nextCursor;
      if (cursor) expect(victims.has(decodeAuditCursor(cursor).id)).toBe(true);
      pages += 1;
    } while (cursor && pages < 20);
    expect(seen).toEqual(['victim:created']);
    // A page asked larger than one walk's budget comes back shorter, with a cursor that reaches
    // every entry (it used to end the listing after the first 1 000).
    const everything = async (limit: number) => {
      const ids: string[] = [];
      let next: string | null = null;
      do {
        const page = await scheduler.audit.list({ limit, ...(next ? { cursor: next } : {}) });
        ids.push(...page.items.map((entry) => entry.id));
        next = page.nextCursor;
      } while (next);
      return ids;
    };
    const store = redisStore({ redis: client, prefix: `${prefix}audit:` });
    const direct: string[] = [];
    let next: string | null = null;
    do {
      const page = await store.listAudit({ limit: 5_000, ...(next ? { cursor: next } : {}) });
      direct.push(...page.items.map((entry) => entry.id));
      next = page.nextCursor;
    } while (next);
    const paged = await everything(100);
    expect(paged.length).toBeGreaterThan(1_000);
    expect(direct).toEqual(paged);
  }, 60_000);
});
