import { mongoStore } from '@cronkeeper/adapter-mongo';
import { describe } from 'vitest';
import { bulkContract } from '../../core/src/testing/bulk.js';
import { useFixture } from '../../core/src/testing/harness.js';
import { fakeDatabase } from './fake-mongo.js';
import { fakeMongoDb } from './mingo-db.js';

// The bulk-write part of the Store contract (createRuns, insertJobs) on both database stand-ins:
// unordered inserts that skip the names and dedupe keys taken, and their races. With MONGODB_URI
// set, contract.test.ts runs it on a real server as well.

describe('mongo store bulk writes on a stand-in database', () => {
  let current = fakeMongoDb();
  bulkContract(
    useFixture({
      setup: async () => {
        current = fakeMongoDb();
      },
      createStore: () => mongoStore({ db: current.db, collectionPrefix: 'ck_' }),
    }),
  );
});

describe('mongo store bulk writes on the crash-window collections', () => {
  let database = fakeDatabase();
  bulkContract(
    useFixture({
      setup: async () => {
        database = fakeDatabase();
      },
      createStore: () => mongoStore({ db: database.db }),
    }),
  );
});
