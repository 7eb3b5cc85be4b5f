import { migrationSql, postgresStore } from '@cronkeeper/adapter-postgres';
import { ValidationError } from '@cronkeeper/core';
import { newJob, newRun, T0 } from '@cronkeeper/core/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../src/migrations/index.js';
import { type SqlNames, sqlNames } from '../src/names.js';
import { dropSchema, newPool, pgAvailable, uniqueSchema } from './postgres.js';

const schemas: string[] = [];
let pool: pg.Pool;

function freshSchema(label: string): string {
  const schema = uniqueSchema(label);
  schemas.push(schema);
  return schema;
}

describe('postgresStore options', () => {
  const fakePool = { query: async () => ({ rows: [], rowCount: 0 }), connect: async () => ({}) as never };

  it('rejects a schema or prefix that is not a plain identifier, naming the field', () => {
    expect(() => postgresStore({ pool: fakePool, schema: 'bad"name' })).toThrow(ValidationError);
    expect(() => postgresStore({ pool: fakePool, schema: 'bad"name' })).toThrow(/^schema: /);
    expect(() => postgresStore({ pool: fakePool, tablePrefix: 'x'.repeat(31) })).toThrow(/^tablePrefix: /);
  });

  it('rejects a missing pool and unknown options with a message saying what is expected', () => {
    expect(() => postgresStore({} as never)).toThrow(/pool: must be a pg Pool/);
    expect(() => postgresStore({ pool: fakePool, prefix: 'x' } as never)).toThrow(
      /prefix: is not an option of postgresStore \(known: pool, schema, tablePrefix/,
    );
  });

  it('declares subscribe only when notifications are on', () => {
    const quiet = postgresStore({ pool: fakePool, notify: false });
    expect(quiet.capabilities.subscribe).toBe(false);
    expect(quiet.publish).toBeUndefined();
    expect(quiet.subscribe).toBeUndefined();
    expect(postgresStore({ pool: fakePool }).capabilities.subscribe).toBe(true);
  });

  it('bind() refuses something that cannot run queries', () => {
    expect(() => postgresStore({ pool: fakePool }).bind({} as never)).toThrow(
      /^db: must be a pg client or pool/,
    );
  });

  it('migrationSql names the schema and prefix it is given, and checks them', () => {
    const sql = migrationSql({ schema: 'app', tablePrefix: 'ck_' });
    expect(sql).toContain('CREATE SCHEMA IF NOT EXISTS "app"');
    expect(sql).toContain('"app"."ck_runs"');
    expect(sql).toContain('SKIP LOCKED');
    expect(() => migrationSql({ schema: 'drop table' })).toThrow(/^schema: /);
  });
});

describe.skipIf(!pgAvailable)('postgres migrations', () => {
  beforeAll(() => {
    pool = newPool();
  });
  afterAll(async () => {
    if (!pool) return;
    for (const schema of schemas) await dropSchema(pool, schema);
    await pool.end();
  });

  it('five instances initialising a new schema at once apply each version exactly once', async () => {
    const schema = freshSchema('migrate');
    const pools = [1, 2, 3, 4, 5].map(() => newPool({ max: 2 }));
    try {
      await Promise.all(pools.map((each) => postgresStore({ pool: each, schema }).init()));
    } finally {
      await Promise.all(pools.map((each) => each.end()));
    }
    const { rows } = await pool.query(
      `SELECT version, name FROM "${schema}".cronkeeper_migrations ORDER BY version`,
    );
    expect(rows).toEqual([
      { version: 1, name: 'init' },
      { version: 2, name: 'terminal-tasks' },
      { version: 3, name: 'operations' },
      { version: 4, name: 'claim-order' },
      { version: 5, name: 'parked-runs' },
      { version: 6, name: 'first-in-line' },
    ]);
  });

  /** A new schema at version `from`, as an earlier release's `init()` left it. */
  async function migrateTo(n: SqlNames, from: number): Promise<void> {
    await pool.query(`CREATE SCHEMA ${n.schemaSql}`);
    await pool.query(
      `CREATE TABLE ${n.migrations} (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    for (const migration of MIGRATIONS.filter((each) => each.version <= from)) {
      await pool.query(migration.sql(n));
      await pool.query(`INSERT INTO ${n.migrations} (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
    }
  }

  // Every index a write keeps up to date is one the store reads; docs/postgres.md lists them.
  const RUN_INDEXES = [
    'cronkeeper_runs_active_key',
    'cronkeeper_runs_claimable',
    'cronkeeper_runs_created',
    'cronkeeper_runs_dedupe',
    'cronkeeper_runs_due',
    'cronkeeper_runs_exclusive',
    'cronkeeper_runs_executor',
    'cronkeeper_runs_finished',
    'cronkeeper_runs_job',
    'cronkeeper_runs_key_claimable',
    'cronkeeper_runs_lease',
    'cronkeeper_runs_parked',
    'cronkeeper_runs_pkey',
    'cronkeeper_runs_started',
  ];
  const runIndexes = async (schema: string) =>
    (
      await pool.query(
        `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'cronkeeper_runs' ORDER BY indexname`,
        [schema],
      )
    ).rows.map((row) => row.indexname);

  it.each([0, 4, 5])(
    'a schema at version %i brought to the latest holds the documented run indexes, and no other',
    async (from) => {
      const schema = freshSchema(`runindexes${from}`);
      const n = sqlNames(schema, 'cronkeeper_');
      if (from > 0) await migrateTo(n, from);
      await postgresStore({ pool, schema, notify: false }).init();
      expect(await runIndexes(schema)).toEqual(RUN_INDEXES);
    },
  );

  // A database migrated by an earlier release, with data in it, brought to the latest version.
  it.each([1, 2, 3, 4, 5])(
    'init() brings a version-%i schema with data to the latest version: jobs keep their fields, backfill runs fit, ended runs end their tasks, pending runs are claimed in order',
    async (from) => {
      const schema = freshSchema(`upgrade${from}`);
      const n = sqlNames(schema, 'cronkeeper_');
      await migrateTo(n, from);
      const legacy = newJob({ name: 'legacy' });
      await pool.query(
        `INSERT INTO ${n.jobs} (id, name, schedule, timezone, tasks, overlap, misfire, catch_up_limit, created_at, updated_at)
         VALUES (gen_random_uuid(), $1, $2, 'UTC', $3::jsonb, 'skip', 'once', 10, now(), now())`,
        [legacy.name, legacy.schedule, JSON.stringify(legacy.tasks)],
      );
      const pendingTasks = JSON.stringify([{ executor: 'x', status: 'pending', params: {} }]);
      const {
        rows: [oldRun],
      } = await pool.query(
        `INSERT INTO ${n.runs} (id, executor, trigger, status, tasks, run_at, created_at, overlap, concurrency_key)
         VALUES (gen_random_uuid(), 'x', 'manual', 'pending', $1::jsonb, now(), now(), 'queue', 'old') RETURNING id`,
        [pendingTasks],
      );
      // Two more runs written by the old release, the urgent one second: the latest claim takes
      // them in priority order, through its index.
      const older = await pool.query(
        `INSERT INTO ${n.runs} (id, executor, trigger, status, tasks, run_at, created_at, overlap, concurrency_key, priority)
         VALUES (gen_random_uuid(), 'x', 'manual', 'pending', $1::jsonb, now() - interval '1 minute', now(), 'skip', 'waiting', 10),
                (gen_random_uuid(), 'x', 'manual', 'pending', $1::jsonb, now() - interval '1 minute', now(), 'allow', 'urgent', -5)
         RETURNING id, priority`,
        [pendingTasks],
      );
      const urgentRun = older.rows.find((row) => row.priority === -5);
      // Before version 3, the trigger check knew no backfill.
      if (from < 3)
        await expect(
          pool.query(
            `INSERT INTO ${n.runs} (id, executor, trigger, status, tasks, run_at, created_at, overlap, concurrency_key)
             VALUES (gen_random_uuid(), 'x', 'backfill', 'pending', '[]', now(), now(), 'queue', 'k')`,
          ),
        ).rejects.toThrow(/check constraint/);

      const store = postgresStore({ pool, schema, notify: false });
      await store.init();
      const { rows } = await pool.query(`SELECT version FROM ${n.migrations} ORDER BY version`);
      expect(rows.map((row) => row.version)).toEqual(MIGRATIONS.map((migration) => migration.version));
      const job = await store.findJobByName(null, 'legacy');
      expect(job).toMatchObject({
        name: 'legacy',
        schedule: legacy.schedule,
        autoPause: null,
        consecutiveFailures: 0,
      });
      const created = await store.createRun({
        run: newRun({ trigger: 'backfill', scheduledFor: T0 }),
        now: T0,
        rejectIfActive: false,
      });
      expect(created.run.trigger).toBe('backfill');
      expect((await store.listAudit({ limit: 5 })).items).toEqual([]);
      // Version 2's trigger holds after the upgrade: a run cancelled while pending ends its tasks.
      const cancelled = await store.cancelRun({ runId: String(oldRun?.id), now: T0, by: 'test' });
      expect(cancelled?.status).toBe('cancelled');
      expect(cancelled?.tasks.map((task) => task.status)).toEqual(['cancelled']);
      const claim = await store.claimRuns({ workerId: 'w', now: new Date(), limit: 5, leaseMs: 30_000 });
      expect(claim.claimed.map((run) => run.id)[0]).toBe(String(urgentRun?.id));
      // Priority -5, then the backfill run created above (0), then priority 10.
      expect(claim.claimed.map((run) => run.concurrencyKey)).toEqual([
        'urgent',
        created.run.concurrencyKey,
        'waiting',
      ]);
      expect(claim.claimed.every((run) => run.status === 'running' && run.workerId === 'w')).toBe(true);
      // Version 3's audit table takes entries written with a change.
      const updated = await store.updateJob({
        id: (job as { id: string }).id,
        expectedVersion: (job as { version: number }).version,
        patch: { description: 'upgraded' },
        now: T0,
        audit: {
          at: T0,
          actor: 'ops',
          action: 'updated',
          job: 'legacy',
          tenantId: null,
          before: { description: null },
          after: { description: 'upgraded' },
          note: null,
        },
      });
      expect(updated?.description).toBe('upgraded');
      expect((await store.listAudit({ limit: 5 })).items).toMatchObject([
        { action: 'updated', job: 'legacy', actor: 'ops', after: { description: 'upgraded' } },
      ]);
    },
  );

  it('a schema built from migrationSql() works with migrate: false', async () => {
    const schema = freshSchema('manual');
    await pool.query(migrationSql({ schema, tablePrefix: 'jobs_' }));
    await pool.query(migrationSql({ schema, tablePrefix: 'jobs_' })); // idempotent
    const store = postgresStore({ pool, schema, tablePrefix: 'jobs_', migrate: false, notify: false });
    await store.init();
    const job = await store.insertJob(newJob({ name: 'nightly' }));
    expect(await store.findJobByName(null, 'nightly')).toEqual(job);
  });

  it('with migrate: false, init() refuses a schema that was never migrated and says how to fix it', async () => {
    const schema = freshSchema('missing');
    const store = postgresStore({ pool, schema, migrate: false, notify: false });
    await expect(store.init()).rejects.toThrow(
      /apply migrationSql\(\) or create the store with migrate: true/,
    );
  });

  it('two prefixes in one schema are two independent installations', async () => {
    const schema = freshSchema('prefixes');
    const first = postgresStore({ pool, schema, tablePrefix: 'one_', notify: false });
    const second = postgresStore({ pool, schema, tablePrefix: 'two_', notify: false });
    await Promise.all([first.init(), second.init()]);
    await first.insertJob(newJob({ name: 'same' }));
    await second.insertJob(newJob({ name: 'same' }));
    expect(await first.listJobs({})).toHaveLength(1);
    expect(await second.listJobs({})).toHaveLength(1);
  });
});
