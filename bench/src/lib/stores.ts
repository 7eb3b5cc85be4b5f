import { memoryStore } from '@cronkeeper/adapter-memory';
import { redisStore } from '@cronkeeper/adapter-redis';
import type { Store } from '@cronkeeper/core';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { deleteRedisKeys, dropSchema, newPool, newRedis } from './env.js';
import { postgresServerCpu, redisServerCpu, type ServerCpu } from './server-cpu.js';
import { PG_POOL } from './settings.js';

export type StoreKind = 'memory' | 'postgres' | 'redis';
export const STORE_KINDS: readonly StoreKind[] = ['memory', 'postgres', 'redis'];

/** Calls counted by name: store methods, SQL queries, Redis commands and round trips. */
export class Counter {
  readonly counts = new Map<string, number>();
  add(name: string, by = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + by);
  }
  get(name: string): number {
    return this.counts.get(name) ?? 0;
  }
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
  reset(): void {
    this.counts.clear();
  }
}

type PostgresStoreFactory = (options: { pool: pg.Pool; schema: string }) => Store;

let postgresFactory: Promise<PostgresStoreFactory | null> | undefined;

/**
 * The PostgreSQL store if its package has one, else null. Imported by a computed name so the
 * benchmark type-checks and runs before that package exists; its rows appear once it does.
 */
export function loadPostgresStore(): Promise<PostgresStoreFactory | null> {
  const name = ['@cronkeeper', 'adapter-postgres'].join('/');
  postgresFactory ??= import(name).then(
    (module: { postgresStore?: PostgresStoreFactory }) =>
      typeof module.postgresStore === 'function' ? module.postgresStore : null,
    () => null,
  );
  return postgresFactory;
}

/** Names of what one workload stores, so parallel workloads and peers never share data. */
export function namespaceOf(label: string): { schema: string; prefix: string } {
  return { schema: `bench_ck_${label}`, prefix: `{ckbench-${label}}` };
}

/** A store with the backend connections it opened, and the counters around both. */
export interface OpenedStore {
  kind: StoreKind;
  store: Store;
  /** Store method calls, by method name. */
  calls: Counter;
  /** Backend round trips (`roundTrips`) and statements (`statements`): SQL queries, Redis commands. */
  backend: Counter;
  /** The database server's CPU spent for this store (PostgreSQL backends, redis-server); null in memory. */
  serverCpu: ServerCpu | null;
  close(): Promise<void>;
}

/** Wrap every method of `store` so each call is counted under its name. */
export function countingStore(store: Store, counter: Counter): Store {
  return new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function' || typeof key !== 'string') return value;
      return (...args: unknown[]) => {
        counter.add(key);
        // Bound to the real store: adapters keep state in private fields a proxy cannot reach.
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** Count every query the pool's clients send (one query = one round trip with `pg`). */
function countPool(pool: pg.Pool, counter: Counter): void {
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      counter.add('roundTrips');
      counter.add('statements');
      return query(...args);
    };
  });
}

/** Count Redis commands and round trips (a pipeline is one round trip). */
function countRedis(redis: Redis, counter: Counter): Redis {
  return new Proxy(redis, {
    get(target, key, receiver) {
      if (key === 'call') {
        return (...args: unknown[]) => {
          counter.add('roundTrips');
          counter.add('statements');
          return (target.call as (...a: unknown[]) => unknown)(...args);
        };
      }
      if (key === 'pipeline') {
        return () => {
          const pipeline = target.pipeline();
          return new Proxy(pipeline, {
            get(p, pkey, preceiver) {
              const value = Reflect.get(p, pkey, preceiver);
              if (pkey === 'call' || pkey === 'exec')
                return (...args: unknown[]) => {
                  counter.add(pkey === 'call' ? 'statements' : 'roundTrips');
                  return (value as (...a: unknown[]) => unknown).apply(p, args);
                };
              return typeof value === 'function' ? value.bind(p) : value;
            },
          });
        };
      }
      const value = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * Open a Cronkeeper store of `kind` under the namespace `label`. Stores opened with the same label
 * (in any process) share their data, which is how several instances cooperate.
 */
export async function openStore(
  kind: StoreKind,
  label: string,
  options: { poolSize?: number; applicationName?: string } = {},
): Promise<OpenedStore> {
  const calls = new Counter();
  const backend = new Counter();
  const { schema, prefix } = namespaceOf(label);
  if (kind === 'memory') {
    return {
      kind,
      store: countingStore(memoryStore(), calls),
      calls,
      backend,
      serverCpu: null,
      close: async () => {},
    };
  }
  if (kind === 'redis') {
    const redis = newRedis();
    const store = redisStore({ redis: countRedis(redis, backend), prefix });
    await store.init();
    return {
      kind,
      store: countingStore(store, calls),
      calls,
      backend,
      serverCpu: redisServerCpu(redis),
      close: async () => {
        await store.close();
        redis.disconnect();
      },
    };
  }
  const factory = await loadPostgresStore();
  if (!factory) throw new Error('the PostgreSQL store is not available in this checkout');
  const applicationName = options.applicationName ?? `ckbench-${label}`;
  const pool = newPool(options.poolSize ?? PG_POOL, applicationName);
  // Its own pool, so that reading the backends' CPU is not counted as the store's work.
  const probe = newPool(1);
  countPool(pool, backend);
  const store = factory({ pool, schema });
  // Create the schema now, so the first measured call does not pay for it.
  await store.init();
  return {
    kind,
    store: countingStore(store, calls),
    calls,
    backend,
    serverCpu: postgresServerCpu(probe, applicationName),
    close: async () => {
      await store.close();
      await pool.end();
      await probe.end();
    },
  };
}

/** Remove what a namespace stored (schema or key prefix). */
export async function dropNamespace(kind: StoreKind, label: string): Promise<void> {
  const { schema, prefix } = namespaceOf(label);
  if (kind === 'postgres') await dropSchema(schema);
  if (kind === 'redis') await deleteRedisKeys(`${prefix}*`);
}
