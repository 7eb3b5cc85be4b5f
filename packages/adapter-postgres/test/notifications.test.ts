import { randomUUID } from 'node:crypto';
import { postgresStore } from '@cronkeeper/adapter-postgres';
import type { StoreEvent } from '@cronkeeper/core';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, newPool, pgAvailable, uniqueSchema } from './postgres.js';

const schema = uniqueSchema('notify');
let admin: pg.Pool;
let cleanup: (() => Promise<void>)[] = [];

async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** A store on its own pool, whose sessions carry a unique application_name we can find again. */
function openStore(onError: (error: Error) => void = () => {}) {
  const applicationName = `ck-notify-${randomUUID().slice(0, 8)}`;
  const pool = newPool({ applicationName });
  const store = postgresStore({ pool, schema, onError });
  cleanup.push(async () => {
    await store.close();
    await pool.end();
  });
  return { store, pool, applicationName };
}

/** Backend pids of this test's own sessions that are listening (never anyone else's). */
async function listenerPids(applicationName: string): Promise<number[]> {
  const { rows } = await admin.query(
    `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN %'`,
    [applicationName],
  );
  return rows.map((row) => Number(row.pid));
}

async function terminate(pids: number[]): Promise<void> {
  for (const pid of pids) await admin.query('SELECT pg_terminate_backend($1)', [pid]);
}

describe.skipIf(!pgAvailable)('postgres notifications', () => {
  beforeAll(async () => {
    admin = newPool({ max: 2, applicationName: 'ck-notify-admin' });
    const { store } = openStore();
    await store.init();
  });
  afterEach(async () => {
    const pending = cleanup;
    cleanup = [];
    for (const close of pending) await close();
  });
  afterAll(async () => {
    if (!admin) return;
    await dropSchema(admin, schema);
    await admin.end();
  });

  it('listens again after its connection is terminated, wakes listeners, and delivers new events', async () => {
    const errors: Error[] = [];
    const listener = openStore((error) => errors.push(error));
    const sender = openStore();
    const received: StoreEvent[] = [];
    await listener.store.subscribe?.((event) => received.push(event));
    const [pid] = await eventually(async () => {
      const pids = await listenerPids(listener.applicationName);
      expect(pids).toHaveLength(1);
      return pids;
    });

    await terminate([pid as number]);
    await eventually(() =>
      expect(received).toContainEqual({ type: 'wake', origin: 'cronkeeper-postgres-listener' }),
    );
    expect(errors.map((error) => error.message).join('\n')).toMatch(/LISTEN connection lost/);
    const [newPid] = await listenerPids(listener.applicationName);
    expect(newPid).toBeDefined();
    expect(newPid).not.toBe(pid);

    const event: StoreEvent = { type: 'wake', origin: 'after-reconnect' };
    await sender.store.publish?.([event]);
    await eventually(() => expect(received).toContainEqual(event));
  });

  it('keeps working after the pool connections under its queries are terminated', async () => {
    const { store, pool, applicationName } = openStore();
    // Fill the pool with connections, then cut every one of them (ours only, by application_name).
    await Promise.all([1, 2, 3].map(() => pool.query('SELECT pg_sleep(0.05)')));
    const { rows } = await admin.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [
      applicationName,
    ]);
    expect(rows.length).toBeGreaterThan(0);
    await terminate(rows.map((row) => Number(row.pid)));
    // A query may fail once on a connection that died under it (core reports it and retries next
    // tick); the store itself holds no broken state, so the next attempts succeed.
    const jobs = await eventually(() => store.listJobs({}));
    expect(jobs).toEqual([]);
  });

  it('stops listening and returns the client to the pool once the last listener unsubscribes', async () => {
    const { store, pool, applicationName } = openStore();
    const stopA = await store.subscribe?.(() => {});
    const stopB = await store.subscribe?.(() => {});
    expect(await listenerPids(applicationName)).toHaveLength(1);
    await stopA?.();
    expect(await listenerPids(applicationName)).toHaveLength(1);
    await stopB?.();
    await eventually(async () => expect(await listenerPids(applicationName)).toEqual([]));
    expect(pool.totalCount - pool.idleCount).toBe(0);
  });
});
