import { randomUUID } from 'node:crypto';
// By path: the root package does not depend on the adapters (yet), so their names do not resolve here.
import { postgresStore } from '@cronkeeper/adapter-postgres';
import { redisStore } from '@cronkeeper/adapter-redis';
import type { Store } from '@cronkeeper/core';
import { Cluster, Redis } from 'ioredis';
import pg from 'pg';
import { CLUSTER_CLIENT_OPTIONS } from '../topologies/redis-cluster.js';

/**
 * Store kinds the reliability suite runs on, how to reach them, and how to open a store on one
 * namespace (a Redis key prefix or a PostgreSQL schema) so each test file has its own data.
 * Both the test process and the worker processes open stores through here.
 */
export type StoreKind = 'redis' | 'postgres';

export const REDIS_URL = process.env.CRONKEEPER_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const PG_URL = process.env.CRONKEEPER_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export function urlOf(kind: StoreKind): string {
  return kind === 'redis' ? REDIS_URL : PG_URL;
}

/** A namespace no other test file or engineer uses: a braced key prefix, or a schema name. */
export function uniqueNamespace(kind: StoreKind, label: string): string {
  const token = randomUUID().slice(0, 8);
  return kind === 'redis' ? `{ck-chaos-${label}-${token}}` : `ck_chaos_${label.replace(/\W/g, '_')}_${token}`;
}

/**
 * The connection name (Redis `CLIENT SETNAME`, PostgreSQL `application_name`) of one process's
 * connections. Faults kill connections by this name, so only this suite's own are touched.
 */
export function connectionName(namespace: string, role: string): string {
  return `ck-chaos-${namespace.replace(/[{}]/g, '')}-${role}`;
}

const CLUSTER_SCHEME = 'redis-cluster://';

/**
 * A Redis client for `url`: an ioredis Cluster for `redis-cluster://host:port,host:port,…` (a
 * private cluster's nodes), with the options docs/redis.md recommends; a plain client otherwise.
 */
function redisClient(url: string, connectionName?: string): Redis | Cluster {
  if (url.startsWith(CLUSTER_SCHEME)) {
    const nodes = url
      .slice(CLUSTER_SCHEME.length)
      .split(',')
      .map((node) => ({ host: node.split(':')[0] as string, port: Number(node.split(':')[1]) }));
    return new Cluster(nodes, {
      ...CLUSTER_CLIENT_OPTIONS,
      redisOptions: { ...CLUSTER_CLIENT_OPTIONS.redisOptions, ...(connectionName ? { connectionName } : {}) },
    });
  }
  return new Redis(url, { maxRetriesPerRequest: null, ...(connectionName ? { connectionName } : {}) });
}

/** An opened store and how to release what was opened for it. */
export interface OpenedStore {
  store: Store;
  close(): Promise<void>;
}

/**
 * Open a store of `kind` on `namespace`. `onConnectionError` receives errors of connections the
 * database dropped (an idle pooled client killed by `pg_terminate_backend`, a reset socket): a
 * host app must listen for them or Node exits on an unhandled 'error' event.
 */
export async function openStore(
  kind: StoreKind,
  options: { url?: string; namespace: string; name: string; onConnectionError?: (error: Error) => void },
): Promise<OpenedStore> {
  const url = options.url ?? urlOf(kind);
  const onError = options.onConnectionError ?? (() => {});
  if (kind === 'redis') {
    const redis = redisClient(url, options.name);
    redis.on('error', onError);
    const store = redisStore({ redis, prefix: options.namespace, onError });
    return {
      store,
      close: async () => {
        await store.close();
        await redis.quit().catch(() => redis.disconnect());
      },
    };
  }
  const pool = new pg.Pool({ connectionString: url, application_name: options.name, max: 5 });
  pool.on('error', onError);
  const store = postgresStore({ pool, schema: options.namespace, onError });
  return {
    store,
    close: async () => {
      await store.close();
      await pool.end();
    },
  };
}

/** Remove everything stored under `namespace`. */
export async function dropNamespace(kind: StoreKind, namespace: string, url = urlOf(kind)): Promise<void> {
  if (kind === 'redis') {
    const client = redisClient(url);
    try {
      // On a cluster every node holds only its own slots: scan each primary (known once ready).
      if (client instanceof Cluster && client.status !== 'ready')
        await new Promise((resolve) => client.once('ready', resolve));
      const nodes = client instanceof Cluster ? client.nodes('master') : [client];
      for (const redis of nodes) {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${namespace}*`, 'COUNT', 1000);
          if (keys.length > 0) await redis.unlink(...keys);
          cursor = next;
        } while (cursor !== '0');
      }
    } finally {
      await client.quit();
    }
    return;
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${namespace}" CASCADE`);
  } finally {
    await client.end();
  }
}

/**
 * Whether the suite for `kind` runs: test/services.setup.ts probed the server once for the whole
 * test run and announced any skip in one line. With CRONKEEPER_REDIS_URL / CRONKEEPER_PG_URL set it
 * always runs, and fails if the server is down.
 */
export function storeAvailable(kind: StoreKind): boolean {
  return process.env[kind === 'redis' ? 'CRONKEEPER_REDIS_AVAILABLE' : 'CRONKEEPER_PG_AVAILABLE'] !== '0';
}
