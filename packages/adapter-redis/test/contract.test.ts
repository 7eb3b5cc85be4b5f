import { redisStore } from '@cronkeeper/adapter-redis';
import { runStoreContract } from '@cronkeeper/core/contract';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe } from 'vitest';
import { connect, deleteKeysUnder, redisAvailable, uniquePrefix } from './redis.js';

const base = uniquePrefix('contract');
let admin: Redis;
let clients: Redis[] = [];
let test = 0;
const prefix = () => `${base}:${test}`;

describe.skipIf(!redisAvailable)('redis store', () => {
  beforeAll(() => {
    admin = connect();
  });
  afterAll(async () => {
    await deleteKeysUnder(admin, base);
    await admin.quit();
  });

  runStoreContract('redis', {
    // A fresh prefix per test is a fresh, empty database.
    setup: async () => {
      test += 1;
    },
    createStore: () => {
      const client = connect();
      clients.push(client);
      return redisStore({ redis: client, prefix: prefix() });
    },
    teardown: async () => {
      const open = clients;
      clients = [];
      await Promise.all(open.map((client) => client.quit()));
      await deleteKeysUnder(admin, prefix());
    },
    inspect: {
      run: async (id) => hash(await admin.hgetall(`${prefix()}:run:${id}`)),
      job: async (id) => hash(await admin.hgetall(`${prefix()}:job:${id}`)),
    },
  });
});

function hash(record: Record<string, string>): Record<string, unknown> | null {
  return Object.keys(record).length === 0 ? null : record;
}
