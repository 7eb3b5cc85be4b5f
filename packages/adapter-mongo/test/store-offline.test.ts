import { mongoStore, mongoStoreOptionsSchema } from '@cronkeeper/adapter-mongo';
import { ValidationError } from '@cronkeeper/core';
import type { IndexDescription } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { readEvent } from '../src/events.js';
import { changeStreamsSupported, INDEXES } from '../src/indexes.js';
import type { MongoDbLike } from '../src/options.js';

/** A database handle that records what the store asks of it; no server behind it. */
function fakeDb(options: { hello?: Record<string, unknown>; failIndexes?: number[] } = {}) {
  const calls: string[] = [];
  const indexes = new Map<string, IndexDescription[]>();
  const failures = [...(options.failIndexes ?? [])];
  const db = {
    collection(name: string) {
      calls.push(`collection ${name}`);
      return {
        async createIndexes(specs: IndexDescription[]) {
          calls.push(`createIndexes ${name}`);
          const code = failures.shift();
          if (code !== undefined) throw Object.assign(new Error(`server error ${code}`), { code });
          indexes.set(name, specs);
          return specs.map((spec) => spec.name);
        },
      };
    },
    async command(command: Record<string, unknown>) {
      calls.push(`command ${Object.keys(command)[0]}`);
      return options.hello ?? { isWritablePrimary: true };
    },
    async close() {
      calls.push('close');
    },
  };
  return { db: db as unknown as MongoDbLike, calls, indexes };
}

describe('mongoStore options', () => {
  it('require a database handle and name the field when it is missing or wrong', () => {
    expect(() => mongoStore({} as never)).toThrow(ValidationError);
    const error = (() => {
      try {
        mongoStore({ db: { find: () => null } } as never);
        return null;
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues[0]?.path).toBe('db');
  });

  it('validate the collection prefix and reject unknown options, listing the known ones', () => {
    const { db } = fakeDb();
    expect(() => mongoStore({ db, collectionPrefix: 'bad prefix$' })).toThrow(/collectionPrefix/);
    expect(() => mongoStore({ db, collectionPrefix: 'system.x' })).toThrow(/reserved/);
    expect(() => mongoStore({ db, prefix: 'x' } as never)).toThrow(/known: db, collectionPrefix/);
  });

  it('default to the cronkeeper_ prefix with change streams on', () => {
    const { db } = fakeDb();
    expect(mongoStoreOptionsSchema.parse({ db })).toMatchObject({
      collectionPrefix: 'cronkeeper_',
      changeStreams: true,
    });
  });
});

describe('mongoStore on a database handle', () => {
  it('does no I/O when created: only opens collection handles under its prefix', () => {
    const { db, calls } = fakeDb();
    mongoStore({ db, collectionPrefix: 'app_' });
    expect(calls).toEqual([
      'collection app_jobs',
      'collection app_runs',
      'collection app_rate_limits',
      'collection app_audit',
      'collection app_events',
    ]);
  });

  it('init() creates every index on its collections and never closes the user database', async () => {
    const { db, calls, indexes } = fakeDb();
    const store = mongoStore({ db, collectionPrefix: 'app_' });
    await store.init();
    expect(indexes.get('app_jobs')).toEqual(INDEXES.jobs);
    expect(indexes.get('app_runs')).toEqual(INDEXES.runs);
    expect(indexes.get('app_rate_limits')).toEqual(INDEXES.rateLimits);
    expect(indexes.get('app_events')).toEqual(INDEXES.events);
    await store.close();
    expect(calls).not.toContain('close');
  });

  it('polls on a standalone server: no subscribe capability, no publish or subscribe methods', async () => {
    const { db } = fakeDb({ hello: { isWritablePrimary: true } });
    const store = mongoStore({ db });
    await store.init();
    expect(store.capabilities.subscribe).toBe(false);
    expect(store.publish).toBeUndefined();
    expect(store.subscribe).toBeUndefined();
  });

  it('offers publish and subscribe on a replica set, once init() has seen it', async () => {
    const { db } = fakeDb({ hello: { setName: 'rs0', isWritablePrimary: true } });
    const store = mongoStore({ db });
    expect(store.capabilities.subscribe).toBe(false);
    await store.init();
    expect(store.capabilities.subscribe).toBe(true);
    expect(typeof store.publish).toBe('function');
    expect(typeof store.subscribe).toBe('function');
  });

  it('keeps polling on a replica set when changeStreams is false', async () => {
    const { db, calls } = fakeDb({ hello: { setName: 'rs0' } });
    const store = mongoStore({ db, changeStreams: false });
    await store.init();
    expect(store.capabilities.subscribe).toBe(false);
    expect(calls).not.toContain('command hello');
  });

  it('init() retries while another instance builds the same indexes', async () => {
    const { db, indexes } = fakeDb({ failIndexes: [276, 48] });
    await mongoStore({ db }).init();
    expect(indexes.get('cronkeeper_jobs')).toEqual(INDEXES.jobs);
  });

  it('init() explains an index left with another definition by an older version', async () => {
    const { db } = fakeDb({ failIndexes: [85] });
    await expect(mongoStore({ db }).init()).rejects.toThrow(/drop that index and call init\(\) again/);
  });
});

describe('indexes', () => {
  const runIndex = (name: string) => INDEXES.runs.find((index) => index.name === name);

  it('decide the contract races with unique partial indexes', () => {
    expect(runIndex('run_slot_unique')).toMatchObject({
      key: { dedupeKey: 1 },
      unique: true,
      partialFilterExpression: { dedupeKey: { $type: 'string' } },
    });
    expect(runIndex('run_exclusive_running_unique')).toMatchObject({
      key: { concurrencyKey: 1 },
      unique: true,
      partialFilterExpression: { status: 'running', exclusive: true },
    });
    expect(runIndex('run_active_gate_unique')).toMatchObject({ key: { activeKey: 1 }, unique: true });
    expect(INDEXES.jobs[0]).toMatchObject({ key: { tenantId: 1, name: 1 }, unique: true });
  });

  it('detect change streams from hello: replica set or mongos, not standalone', () => {
    expect(changeStreamsSupported({ setName: 'rs0' })).toBe(true);
    expect(changeStreamsSupported({ msg: 'isdbgrid' })).toBe(true);
    expect(changeStreamsSupported({ isWritablePrimary: true })).toBe(false);
  });
});

describe('events', () => {
  it('reads a stored event and refuses documents that are not one', () => {
    const event = { type: 'wake' as const, origin: 'instance-a' };
    expect(readEvent({ event })).toEqual(event);
    expect(() => readEvent({ event: { type: 'drop-database' } })).toThrow(/not a store event/);
    expect(() => readEvent(undefined)).toThrow(/not a store event/);
  });
});
