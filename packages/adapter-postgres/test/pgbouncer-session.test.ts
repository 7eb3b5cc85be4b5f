import { postgresStore } from '@cronkeeper/adapter-postgres';
import type { Store, StoreEvent } from '@cronkeeper/core';
import { at, MINUTE, newJob, newRun, SECOND, T0 } from '@cronkeeper/core/testing';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PrivatePgbouncer } from '../../../test/topologies/pgbouncer.js';
import { LISTEN_CHECK_TIMEOUT_MS } from '../src/notifications.js';
import {
  busyPair,
  pgbouncerAvailable,
  poolOn,
  sleep,
  startPgbouncer,
  subscribing,
  triggerLatency,
} from './pgbouncer.js';
import { dropSchema, PG_URL, uniqueSchema } from './postgres.js';

// PgBouncer 1.18 in session pooling mode: each client connection keeps one server session until it
// disconnects, so prepared statements and LISTEN work as on a direct connection. The whole
// contract runs through transaction pooling (pgbouncer-transaction.test.ts), the mode that takes
// things away; here a shorter pass checks that session pooling takes nothing away: the store keeps
// its prepared statements and its wake-ups, with no warning, and listens again when PgBouncer
// drops the listening client.

let bouncer: PrivatePgbouncer;
let admin: pg.Pool;
let schema = '';
let opened: pg.Pool[] = [];
let cleanup: (() => Promise<void>)[] = [];

function pool(max = 4): pg.Pool {
  const created = poolOn(bouncer.url(), { max, applicationName: `${schema}-app` });
  opened.push(created);
  return created;
}

describe.skipIf(!pgbouncerAvailable)('postgres store through PgBouncer in session pooling mode', () => {
  beforeAll(async () => {
    bouncer = await startPgbouncer('session', 12);
    admin = poolOn(PG_URL, { max: 2 });
  }, 30_000);
  afterAll(async () => {
    await admin?.end();
    await bouncer?.stop();
  });
  beforeEach(async () => {
    schema = uniqueSchema('bouncer_session');
  });
  afterEach(async () => {
    for (const step of cleanup.reverse()) await step();
    cleanup = [];
    const open = opened;
    opened = [];
    await Promise.all(open.map((each) => each.end()));
    await dropSchema(admin, schema);
  });

  it('runs the lifecycle of a slot with its prepared statements kept, and nothing to warn about', async () => {
    const warnings: Error[] = [];
    const onePool = pool(1);
    const store = postgresStore({
      pool: onePool,
      schema,
      notify: false,
      onError: (error) => warnings.push(error),
    });
    await store.init();
    const job = await store.insertJob(newJob({ nextRunAt: T0 }));
    const [fired] = await store.fireSlots([
      {
        jobId: job.id,
        expectedNextRunAt: T0,
        nextRunAt: at(MINUTE),
        runs: [
          newRun({
            jobId: job.id,
            trigger: 'schedule',
            scheduledFor: T0,
            dedupeKey: `${job.id}:${T0.getTime()}`,
          }),
        ],
        now: T0,
      },
    ]);
    expect(fired?.created).toHaveLength(1);
    const { claimed } = await store.claimRuns({ workerId: 'w', now: T0, limit: 5, leaseMs: 30 * SECOND });
    const [finished] = await store.finishRuns([
      {
        runId: (claimed[0] as { id: string }).id,
        fence: { workerId: 'w' },
        now: at(SECOND),
        status: 'succeeded',
        result: 1,
        error: null,
      },
    ]);
    expect(finished?.status).toBe('succeeded');
    // The session behind this one client holds the store's statements by name.
    const { rows } = await onePool.query(
      `SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'cronkeeper_%'`,
    );
    expect(rows[0]?.n).toBeGreaterThan(2);
    expect(warnings).toEqual([]);
  });

  it('delivers events between instances, and a trigger on busy A starts on B within milliseconds (poll interval 60 s)', async () => {
    const warnings: Error[] = [];
    const setup = postgresStore({ pool: pool(2), schema, notify: false });
    await setup.init();
    const stores: Store[] = [0, 1].map(() =>
      postgresStore({ pool: pool(), schema, onError: (error) => warnings.push(error) }),
    );
    const heard: StoreEvent[] = [];
    const stop = await subscribing(stores[1]).subscribe((event) => heard.push(event));
    cleanup.push(stop);
    await subscribing(stores[0]).publish([{ type: 'wake', origin: 'a' }]);
    const deadline = Date.now() + 5_000;
    while (heard.length === 0 && Date.now() < deadline) await sleep(20);
    expect(heard).toEqual([{ type: 'wake', origin: 'a' }]);

    const pair = await busyPair(
      () => postgresStore({ pool: pool(), schema, onError: (error) => warnings.push(error) }),
      '1m',
    );
    cleanup.push(pair.stop);
    const { run, ms } = await triggerLatency(pair);
    expect(run.workerId).toBe('instance-b');
    expect(ms).toBeLessThan(1_000);
    // The LISTEN checks all went through: no warning of any kind.
    await sleep(LISTEN_CHECK_TIMEOUT_MS);
    expect(warnings).toEqual([]);
    console.log(`[cronkeeper] PgBouncer session mode: B started A's trigger after ${ms.toFixed(1)} ms`);
  }, 20_000);

  it("after the server session under B's LISTEN is terminated, B listens again and still starts A's triggers at once", async () => {
    const errors: Error[] = [];
    const setup = postgresStore({ pool: pool(2), schema, notify: false });
    await setup.init();
    const pair = await busyPair(
      (name) =>
        postgresStore({
          pool: poolOn(bouncer.url(), { applicationName: `${schema}-${name}` }),
          schema,
          onError: (error) => errors.push(error),
        }),
      '1m',
    );
    cleanup.push(pair.stop);
    const listeners = async () =>
      (
        await admin.query(
          `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN %'`,
          [`${schema}-b`],
        )
      ).rows.map((row: { pid: number }) => Number(row.pid));
    const [before] = await listeners();
    expect(before).toBeDefined();
    await admin.query('SELECT pg_terminate_backend($1)', [before]);
    const deadline = Date.now() + 10_000;
    let after: number[] = [];
    while (Date.now() < deadline) {
      after = await listeners();
      if (after.length === 1 && after[0] !== before) break;
      await sleep(50);
    }
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before);
    expect(errors.map((error) => error.message).join('\n')).toMatch(/LISTEN connection lost/);
    const { run, ms } = await triggerLatency(pair);
    expect(run.workerId).toBe('instance-b');
    expect(ms).toBeLessThan(1_000);
  }, 30_000);
});
