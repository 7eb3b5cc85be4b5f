import { postgresStore } from '@cronkeeper/adapter-postgres';
import { newAuditEntry, newJob } from '@cronkeeper/core/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, newPool, pgAvailable, uniqueSchema } from './postgres.js';

const schema = uniqueSchema('bulk_audit');

describe.skipIf(!pgAvailable)('postgres: an import that waits on another seeder', () => {
  let pool: pg.Pool;

  beforeAll(async () => {
    pool = newPool({ max: 4 });
    await postgresStore({ pool, schema, notify: false }).init();
  });

  afterAll(async () => {
    await dropSchema(pool, schema);
    await pool.end();
  });

  it("lists its audit entries in the order recorded: no later chunk's entries are written ahead of a chunk held up", async () => {
    const store = postgresStore({ pool, schema, notify: false });
    const at = new Date('2026-03-01T00:00:00Z');
    // Two chunks of 1 000 jobs; another seeder holds a name of the first one, uncommitted.
    const jobs = Array.from({ length: 2_000 }, (_, index) =>
      newJob({ name: `imported-${String(index).padStart(4, '0')}` }),
    );
    const other = await pool.connect();
    try {
      await other.query('BEGIN');
      await store.bind(other).insertJob(newJob({ name: 'imported-0010' }));
      const importing = store.insertJobs(jobs, {
        audits: jobs.map((job) => newAuditEntry({ action: 'seeded', job: job.name, at })),
      });
      // Long enough for a second chunk sent at once to have gone through.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await other.query('ROLLBACK');
      expect((await importing).every((job) => job !== null)).toBe(true);
    } finally {
      other.release();
    }
    const listed: (string | null)[] = [];
    let cursor: string | null = null;
    do {
      const page = await store.listAudit({ limit: 1_000, cursor });
      listed.push(...page.items.map((entry) => entry.job));
      cursor = page.nextCursor;
    } while (cursor);
    expect(listed).toEqual(jobs.map((job) => job.name).reverse());
  });
});
