import { postgresStore } from '@cronkeeper/adapter-postgres';
import type { Store } from '@cronkeeper/core';
import { runStoreContract } from '@cronkeeper/core/contract';
import { newJob, newRun, T0 } from '@cronkeeper/core/testing';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PrivatePgbouncer } from '../../../test/topologies/pgbouncer.js';
import { LISTEN_CHECK_TIMEOUT_MS } from '../src/notifications.js';
import { busyPair, pgbouncerAvailable, poolOn, sleep, startPgbouncer, triggerLatency } from './pgbouncer.js';
import { dropSchema, PG_URL, uniqueSchema } from './postgres.js';

// PgBouncer 1.18 in transaction pooling mode: every transaction may run on another server session.
// Two things a session gives do not survive that: named prepared statements (another client's
// session already has the name, or this client's is elsewhere) and LISTEN (the listening session
// goes back to the pool and its notifications to whoever holds it next). The store must notice
// both and keep working, rather than fail at random or wait for wake-ups that never come.

const PREPARED_FALLBACK = /prepared statements do not stay on the connections of this pool/;
const SHARED_SESSIONS = /LISTEN cannot work on this pool: its connections share server sessions/;
/** What PgBouncer 1.18 logs when an idle session it holds receives a notification (see notifications.ts). */
const LEAKED_LISTEN = /from server when not linked/;

let bouncer: PrivatePgbouncer;
let admin: pg.Pool;
let opened: { end(): Promise<void> }[] = [];

function pool(url: string, max = 4): pg.Pool {
  const created = poolOn(url, { max });
  opened.push(created);
  return created;
}

async function endPools(): Promise<void> {
  const open = opened;
  opened = [];
  await Promise.all(open.map((each) => each.end()));
}

describe.skipIf(!pgbouncerAvailable)('postgres store through PgBouncer in transaction pooling mode', () => {
  beforeAll(async () => {
    bouncer = await startPgbouncer('transaction');
    admin = poolOn(PG_URL, { max: 2 });
  }, 30_000);

  afterAll(async () => {
    await endPools();
    await admin?.end();
    await bouncer?.stop();
  });

  describe('with its defaults, and LISTEN on a direct connection (listenPool)', () => {
    const base = uniqueSchema('bouncer_tx');
    const warnings: Error[] = [];
    let test = 0;
    const schema = () => `${base}_${test}`;

    runStoreContract('postgres through PgBouncer (transaction pooling)', {
      setup: async () => {
        test += 1;
      },
      createStore: () =>
        postgresStore({
          pool: pool(bouncer.url()),
          listenPool: pool(PG_URL, 1),
          schema: schema(),
          onError: (error) => warnings.push(error),
        }),
      teardown: async () => {
        await endPools();
        await dropSchema(admin, schema());
      },
      inspect: {
        run: async (id) =>
          (await admin.query(`SELECT * FROM "${schema()}".cronkeeper_runs WHERE id = $1`, [id])).rows[0] ??
          null,
        job: async (id) =>
          (await admin.query(`SELECT * FROM "${schema()}".cronkeeper_jobs WHERE id = $1`, [id])).rows[0] ??
          null,
      },
    });

    it('passed the contract with no error but the one-time notice that prepared statements went unnamed', () => {
      // Sessions are shared, so stores met each other's statement names and switched (each once).
      expect(warnings.length).toBeGreaterThan(0);
      expect(warnings.filter((warning) => !PREPARED_FALLBACK.test(warning.message))).toEqual([]);
    });
  });

  describe('what the store notices', () => {
    let schema = '';
    let cleanup: (() => Promise<void>)[] = [];

    // Each test on a schema of its own, so no run of one is claimed in the next.
    beforeEach(async () => {
      schema = uniqueSchema('bouncer_tx_notice');
      await postgresStore({ pool: admin, schema, notify: false, preparedStatements: false }).init();
    });
    afterEach(async () => {
      for (const step of cleanup.reverse()) await step();
      cleanup = [];
      await endPools();
      await dropSchema(admin, schema);
    });

    it('with prepared statements on, concurrent calls of several instances all succeed; each store warns once, then sends them unnamed', async () => {
      const warnings: Error[][] = [[], [], []];
      const stores: Store[] = warnings.map((list) =>
        postgresStore({
          pool: pool(bouncer.url()),
          schema,
          notify: false,
          onError: (error) => list.push(error),
        }),
      );
      const job = await (stores[0] as Store).insertJob(newJob());
      const calls = Array.from({ length: 240 }, async (_, index) => {
        const store = stores[index % stores.length] as Store;
        const created = await store.createRun({
          run: newRun({ jobId: job.id }),
          now: T0,
          rejectIfActive: false,
        });
        const read = await store.getRun(created.run.id);
        return read?.id === created.run.id;
      });
      const outcomes = await Promise.allSettled(calls);
      const failures = outcomes
        .filter((outcome) => outcome.status === 'rejected')
        .map((outcome) => String(outcome.reason));
      expect(failures).toEqual([]);
      expect(outcomes.every((outcome) => outcome.status === 'fulfilled' && outcome.value)).toBe(true);
      for (const list of warnings) {
        expect(list.length).toBeLessThanOrEqual(1);
        for (const warning of list) expect(warning.message).toMatch(PREPARED_FALLBACK);
        for (const warning of list) expect(warning.message).toMatch(/preparedStatements: false/);
      }
      expect(warnings.flat().length).toBeGreaterThan(0);
    });

    it('with preparedStatements: false, sends everything unnamed from the start and has nothing to warn about', async () => {
      const warnings: Error[] = [];
      const stores = [0, 1, 2].map(() =>
        postgresStore({
          pool: pool(bouncer.url()),
          schema,
          notify: false,
          preparedStatements: false,
          onError: (error) => warnings.push(error),
        }),
      );
      await Promise.all(
        Array.from({ length: 90 }, (_, index) =>
          (stores[index % 3] as Store).createRun({ run: newRun(), now: T0, rejectIfActive: false }),
        ),
      );
      expect(warnings).toEqual([]);
    });

    it('without listenPool, finds the sessions shared, warns once per instance and never LISTENs, and the schedulers find work by polling', async () => {
      const warnings: Record<'a' | 'b', Error[]> = { a: [], b: [] };
      const pair = await busyPair(
        (name) =>
          postgresStore({
            pool: pool(bouncer.url()),
            schema,
            preparedStatements: false,
            onError: (error) => warnings[name].push(error),
          }),
        '800ms',
      );
      cleanup.push(pair.stop);
      // Decided before start() returned, before any LISTEN.
      for (const name of ['a', 'b'] as const) {
        expect(warnings[name].map((warning) => warning.message)).toEqual([
          expect.stringMatching(SHARED_SESSIONS),
        ]);
        expect(warnings[name][0]?.message).toMatch(/listenPool/);
      }
      // Polling stands in: B still starts A's trigger, within about one poll interval.
      const { run, ms } = await triggerLatency(pair);
      expect(run.workerId).toBe('instance-b');
      expect(ms).toBeLessThan(800 + 1_500);
      // No session was left listening: PgBouncer never met a notification on an idle session.
      await sleep(300);
      expect(bouncer.output()).not.toMatch(LEAKED_LISTEN);
      console.log(
        `[cronkeeper] PgBouncer transaction mode, no listenPool: B started A's trigger by polling after ${ms.toFixed(0)} ms (poll 800 ms)`,
      );
    }, 20_000);

    it('with listenPool on a direct connection, a trigger on busy A starts on B within milliseconds (poll interval 60 s)', async () => {
      const warnings: Error[] = [];
      const pair = await busyPair(
        () =>
          postgresStore({
            pool: pool(bouncer.url()),
            listenPool: pool(PG_URL, 1),
            schema,
            onError: (error) => warnings.push(error),
          }),
        '1m',
      );
      cleanup.push(pair.stop);
      const { run, ms } = await triggerLatency(pair);
      expect(run.workerId).toBe('instance-b');
      expect(ms).toBeLessThan(1_000);
      // The LISTEN check went through; what there is to hear about is prepared statements only.
      await sleep(LISTEN_CHECK_TIMEOUT_MS);
      expect(warnings.filter((warning) => !PREPARED_FALLBACK.test(warning.message))).toEqual([]);
      console.log(
        `[cronkeeper] PgBouncer transaction mode with listenPool: B started A's trigger after ${ms.toFixed(1)} ms`,
      );
    }, 20_000);
  });
});
