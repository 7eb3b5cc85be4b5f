import { randomUUID } from 'node:crypto';
import { postgresStore } from '@cronkeeper/adapter-postgres';
import { type Store, type StoreEvent, ValidationError } from '@cronkeeper/core';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LISTEN_CHECK_TIMEOUT_MS } from '../src/notifications.js';
import { poolOn, sleep, subscribing } from './pgbouncer.js';
import { dropSchema, newPool, PG_URL, pgAvailable, uniqueSchema } from './postgres.js';

// The checks a store makes before it relies on LISTEN, on direct connections: the listening
// session hears the store's own notification, or the store says so and polls.

const schema = uniqueSchema('listen_check');
let admin: pg.Pool;
let cleanup: (() => Promise<void>)[] = [];

function trackedPool(url: string, applicationName: string): pg.Pool {
  const pool = poolOn(url, { applicationName });
  cleanup.push(() => pool.end());
  return pool;
}

async function listening(applicationName: string): Promise<number> {
  const { rows } = await admin.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN %'`,
    [applicationName],
  );
  return rows[0]?.n ?? 0;
}

describe.skipIf(!pgAvailable)('postgres store: checks before relying on LISTEN', () => {
  beforeAll(async () => {
    admin = newPool({ max: 2 });
    await postgresStore({ pool: admin, schema, notify: false }).init();
  });
  afterEach(async () => {
    for (const step of cleanup.reverse()) await step();
    cleanup = [];
  });
  afterAll(async () => {
    await dropSchema(admin, schema);
    await admin.end();
  });

  it('refuses listenPool with notify: false, naming the option', () => {
    const pool = newPool({ max: 1 });
    cleanup.push(() => pool.end());
    const attempt = () => postgresStore({ pool, listenPool: pool, notify: false });
    expect(attempt).toThrow(ValidationError);
    expect(attempt).toThrow(/listenPool: is only used for LISTEN, which notify: false turns off/);
  });

  it('on a direct connection, listens without a warning, and its check never reaches other listeners', async () => {
    const warnings: Error[] = [];
    const stores: Store[] = [0, 1].map(() =>
      postgresStore({
        pool: trackedPool(PG_URL, 'ck-listen-check'),
        schema,
        onError: (error) => warnings.push(error),
      }),
    );
    const heard: StoreEvent[] = [];
    const stopFirst = await subscribing(stores[0]).subscribe((event) => heard.push(event));
    // The second store's check notification passes by the first store's listener.
    const stopSecond = await subscribing(stores[1]).subscribe(() => {});
    await sleep(LISTEN_CHECK_TIMEOUT_MS + 500);
    expect(warnings).toEqual([]);
    expect(heard).toEqual([]);
    await stopSecond();
    await stopFirst();
  }, 10_000);

  it('when its listening session hears nothing (a listenPool on another database), warns once, lets go of it and polls', async () => {
    const applicationName = `ck-listen-deaf-${randomUUID().slice(0, 8)}`;
    const elsewhere = new URL(PG_URL);
    elsewhere.pathname = '/postgres';
    const warnings: Error[] = [];
    const store = postgresStore({
      pool: trackedPool(PG_URL, 'ck-listen-deaf-queries'),
      listenPool: trackedPool(elsewhere.href, applicationName),
      schema,
      onError: (error) => warnings.push(error),
    });
    const stop = await (store.subscribe as NonNullable<Store['subscribe']>)(() => {});
    cleanup.push(async () => {
      await stop();
      await store.close();
    });
    expect(await listening(applicationName)).toBe(1);
    const deadline = Date.now() + LISTEN_CHECK_TIMEOUT_MS + 3_000;
    while (warnings.length === 0 && Date.now() < deadline) await sleep(50);
    expect(warnings.map((warning) => warning.message)).toEqual([
      expect.stringMatching(/LISTEN receives no notifications on this connection/),
    ]);
    // The session that heard nothing was given back (closed), and no other took its place.
    const gone = Date.now() + 3_000;
    while ((await listening(applicationName)) > 0 && Date.now() < gone) await sleep(50);
    expect(await listening(applicationName)).toBe(0);
    await sleep(500);
    expect(warnings).toHaveLength(1);
  }, 15_000);
});
