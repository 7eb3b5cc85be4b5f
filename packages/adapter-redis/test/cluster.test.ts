import { randomUUID } from 'node:crypto';
import { redisStore } from '@cronkeeper/adapter-redis';
import { type Store, type StoreEvent, ValidationError } from '@cronkeeper/core';
import { runStoreContract } from '@cronkeeper/core/contract';
import { at, newJob, newRun, SECOND, T0 } from '@cronkeeper/core/testing';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/topologies/children.js';
import { PrivateRedisCluster } from '../../../test/topologies/redis-cluster.js';
import { SCRIPTS } from '../src/scripts.js';

// test/services.setup.ts decided once whether Redis Cluster runs here: required (it fails rather
// than skips) when CRONKEEPER_TOPOLOGIES=1, as in CI.
const clusterAvailable = process.env.CRONKEEPER_REDIS_CLUSTER_AVAILABLE !== '0';

let cluster: PrivateRedisCluster;
let admin: Cluster;
let clients: Cluster[] = [];
const base = `ck-cluster-${randomUUID().slice(0, 8)}`;
let test = 0;
const prefix = () => `{${base}-${test}}`;

function client(): Cluster {
  const opened = cluster.client();
  clients.push(opened);
  return opened;
}

async function closeClients(): Promise<void> {
  const open = clients;
  clients = [];
  await Promise.all(open.map((opened) => opened.quit().catch(() => opened.disconnect())));
}

function hash(record: Record<string, string>): Record<string, unknown> | null {
  return Object.keys(record).length === 0 ? null : record;
}

describe.skipIf(!clusterAvailable)('redis store on Redis Cluster (3 primaries, 3 replicas)', () => {
  beforeAll(async () => {
    cluster = await PrivateRedisCluster.start({ masters: 3 });
    admin = cluster.client();
  }, 60_000);

  afterAll(async () => {
    await closeClients();
    await admin?.quit().catch(() => admin.disconnect());
    await cluster?.destroy();
  });

  runStoreContract('redis through ioredis.Cluster', {
    // A fresh hash-tagged prefix per test is a fresh, empty database (and a new slot).
    setup: async () => {
      test += 1;
    },
    createStore: () => redisStore({ redis: client(), prefix: prefix() }),
    teardown: closeClients,
    inspect: {
      run: async (id) => hash(await admin.hgetall(`${prefix()}:run:${id}`)),
      job: async (id) => hash(await admin.hgetall(`${prefix()}:job:${id}`)),
    },
  });

  describe('cluster rules', () => {
    it('refuses a prefix without a hash tag, naming the field and the fix', () => {
      const attempt = () => redisStore({ redis: client(), prefix: 'no-tag' });
      expect(attempt).toThrow(ValidationError);
      expect(attempt).toThrow(/prefix: on Redis Cluster .*must contain a hash tag such as \{cronkeeper\}/);
      // An empty tag hashes the whole key, like no tag at all.
      expect(() => redisStore({ redis: client(), prefix: '{}app' })).toThrow(/hash tag/);
    });

    it('refuses a cluster client that reads from replicas', () => {
      const replicas = cluster.client({ scaleReads: 'slave' });
      clients.push(replicas);
      expect(() => redisStore({ redis: replicas, prefix: '{ck}' })).toThrow(/redis: .*scaleReads: 'master'/);
    });

    it("accepts the hash tag from the client's keyPrefix, and then keeps every key in that one slot", async () => {
      const tag = `ck-kp-${randomUUID().slice(0, 8)}`;
      const prefixed = cluster.client({ keyPrefix: `{${tag}}:` });
      clients.push(prefixed);
      const store = redisStore({ redis: prefixed, prefix: 'app' });
      await store.init();
      await exerciseEveryKeyKind(store);
      const owner = await cluster.ownersOf(`{${tag}}`);
      const keys = await keysOnNode(owner.master, `{${tag}}:app:*`);
      expect(keys.length).toBeGreaterThan(5);
      // Nothing of the store's landed on another primary.
      for (const port of await primaries())
        if (port !== owner.master) expect(await keysOnNode(port, `*${tag}*`)).toEqual([]);
      await store.close();
    });

    it('keeps every key of a store in the slot of its hash tag, on one primary', async () => {
      const own = `{ck-slot-${randomUUID().slice(0, 8)}}`;
      const store = redisStore({ redis: client(), prefix: own });
      await store.init();
      await exerciseEveryKeyKind(store);
      const owner = await cluster.ownersOf(own);
      const keys = await keysOnNode(owner.master, `${own}:*`);
      // Jobs, runs, due and claim indexes, history, stats and the replay records of the calls.
      for (const kind of [':job:', ':run:', ':jobs:due', ':runs:history', ':stats:', ':requests:'])
        expect(keys.some((key) => key.includes(kind))).toBe(true);
      for (const port of await primaries())
        if (port !== owner.master) expect(await keysOnNode(port, `${own}*`)).toEqual([]);
      await store.close();
    });

    it('runs a script that the primary has not cached (a new or promoted node) by sending its source once', async () => {
      const own = `{ck-noscript-${randomUUID().slice(0, 8)}}`;
      const store = redisStore({ redis: client(), prefix: own });
      await store.init();
      const owner = await cluster.ownersOf(own);
      await cluster.command(owner.master, 'script', 'flush');
      const job = await store.insertJob(newJob({ name: 'after-flush' }));
      expect((await store.getJob(job.id))?.name).toBe('after-flush');
      expect(await cluster.command(owner.master, 'script', 'exists', SCRIPTS.insertJob.sha)).toEqual([1]);
      await store.close();
    });

    it("delivers one instance's events in the order it published them, to subscribers on any node", async () => {
      const own = `{ck-order-${randomUUID().slice(0, 8)}}`;
      const stores = [0, 1, 2].map(() => redisStore({ redis: client(), prefix: own }));
      const received = stores.map(() => [] as StoreEvent[]);
      const unsubscribes = await Promise.all(
        stores.map((store, index) =>
          (store.subscribe as NonNullable<Store['subscribe']>)((event) => received[index]?.push(event)),
        ),
      );
      const sent: StoreEvent[] = Array.from({ length: 60 }, (_, index) => ({
        type: 'wake',
        origin: `n${index}`,
      }));
      const publisher = stores[0] as Store;
      // One publish per event: a plain PUBLISH of a cluster client goes to any node.
      for (const event of sent) await (publisher.publish as NonNullable<Store['publish']>)([event]);
      await waitFor(
        'every event on every instance',
        () => received.every((list) => list.length >= sent.length),
        5_000,
      );
      for (const list of received) expect(list).toEqual(sent);
      for (const unsubscribe of unsubscribes) await unsubscribe();
      for (const store of stores) await store.close();
    });

    it('delivers wake-ups between instances whose subscribers sit on any node', async () => {
      const own = `{ck-events-${randomUUID().slice(0, 8)}}`;
      const stores = [0, 1, 2].map(() => redisStore({ redis: client(), prefix: own }));
      const received = stores.map(() => [] as StoreEvent[]);
      const unsubscribes = await Promise.all(
        stores.map((store, index) =>
          (store.subscribe as NonNullable<Store['subscribe']>)((event) => received[index]?.push(event)),
        ),
      );
      const publisher = stores[0] as Store;
      await (publisher.publish as NonNullable<Store['publish']>)([{ type: 'wake', origin: 'first' }]);
      await waitFor(
        'every instance to hear the wake-up',
        () => received.every((list) => list.length > 0),
        5_000,
      );
      for (const list of received) expect(list).toEqual([{ type: 'wake', origin: 'first' }]);
      for (const unsubscribe of unsubscribes) await unsubscribe();
      for (const store of stores) await store.close();
    });
  });
});

/** Every live primary's port. */
async function primaries(): Promise<number[]> {
  return (await cluster.topology()).filter((node) => node.role === 'master').map((node) => node.port);
}

/** Keys matching `pattern` on one node (SCAN there only: each node holds only its own slots). */
async function keysOnNode(port: number, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = (await cluster.command(
      port,
      'scan',
      cursor,
      'match',
      pattern,
      'count',
      '1000',
    )) as [string, string[]];
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

/** One of each write the store makes: a job, a fired slot, a claim and a finish with a retry. */
async function exerciseEveryKeyKind(store: Store): Promise<void> {
  const job = await store.insertJob(newJob({ name: `job-${randomUUID().slice(0, 6)}`, nextRunAt: T0 }));
  await store.fireSlots([
    {
      jobId: job.id,
      expectedNextRunAt: T0,
      nextRunAt: at(60 * SECOND),
      runs: [
        newRun({
          jobId: job.id,
          jobName: job.name,
          trigger: 'schedule',
          scheduledFor: T0,
          dedupeKey: `${job.id}:${T0.getTime()}`,
        }),
      ],
      now: T0,
    },
  ]);
  const { claimed } = await store.claimRuns({ workerId: 'w', now: T0, limit: 1, leaseMs: 30_000 });
  const run = claimed[0];
  if (!run) throw new Error('the fired run was not claimed');
  await store.finishRuns([
    {
      runId: run.id,
      fence: { workerId: 'w' },
      now: at(SECOND),
      status: 'failed',
      result: null,
      error: { code: 'boom', message: 'planned' },
      followUp: newRun({
        jobId: job.id,
        jobName: job.name,
        trigger: 'retry',
        parentRunId: run.id,
        attempt: 2,
      }),
    },
  ]);
}
