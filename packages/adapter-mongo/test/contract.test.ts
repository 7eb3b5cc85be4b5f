import { mongoStore } from '@cronkeeper/adapter-mongo';
import { runStoreContract } from '@cronkeeper/core/contract';
import type { Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe } from 'vitest';
import { connect, dropCollections, MONGODB_URI, uniqueDatabaseName } from './mongo.js';

// Announced once for the whole run by test/services.setup.ts when it ran.
if (!MONGODB_URI && !process.env.CRONKEEPER_SERVICES_PROBED)
  console.log('[cronkeeper] MONGODB_URI not set: adapter-mongo contract suite skipped');

const databaseName = uniqueDatabaseName('contract');
let admin: MongoClient;
let db: Db;
let clients: MongoClient[] = [];
let test = 0;
// A fresh collection prefix per test is a fresh, empty database for the store.
const prefix = () => `t${test}_`;

describe.skipIf(!MONGODB_URI)('mongo store', () => {
  beforeAll(async () => {
    admin = connect();
    db = admin.db(databaseName);
  });
  afterAll(async () => {
    await db.dropDatabase();
    await admin.close();
  });

  runStoreContract('mongo', {
    setup: async () => {
      test += 1;
    },
    createStore: () => {
      // Each instance gets its own client, so the suite's races go over separate connections.
      const client = connect();
      clients.push(client);
      return mongoStore({ db: client.db(databaseName), collectionPrefix: prefix() });
    },
    teardown: async () => {
      const open = clients;
      clients = [];
      await Promise.all(open.map((client) => client.close()));
      await dropCollections(db, prefix());
    },
    inspect: {
      run: (id) => db.collection<{ _id: string }>(`${prefix()}runs`).findOne({ _id: id }),
      job: (id) => db.collection<{ _id: string }>(`${prefix()}jobs`).findOne({ _id: id }),
    },
  });
});
