import { mongoStore } from '@cronkeeper/adapter-mongo';
import { at, MINUTE, newAuditEntry, newJob, T0 } from '@cronkeeper/core/testing';
import { describe, expect, it } from 'vitest';
import { auditContract } from '../../core/src/testing/audit.js';
import { autoPauseContract } from '../../core/src/testing/auto-pause.js';
import { backfillContract } from '../../core/src/testing/backfill.js';
import { finishAndClaimContract } from '../../core/src/testing/finish-and-claim.js';
import { useFixture } from '../../core/src/testing/harness.js';
import { PENDING_DELETE_GRACE_MS } from '../src/audit.js';
import { fakeDatabase } from './fake-mongo.js';
import { fakeMongoDb } from './mingo-db.js';

// The audit trail, auto-pause, backfill and finishAndClaim parts of the Store contract, run on a database stand-in
// (see mingo-db.ts) since no server is needed to check the store's own logic; with MONGODB_URI set,
// contract.test.ts runs the whole contract on a real server as well.

let current = fakeMongoDb();

describe('mongo store on a stand-in database', () => {
  const fixture = useFixture({
    setup: async () => {
      current = fakeMongoDb();
    },
    createStore: () => mongoStore({ db: current.db, collectionPrefix: 'ck_' }),
  });
  auditContract(fixture);
  autoPauseContract(fixture);
  backfillContract(fixture);
  finishAndClaimContract(fixture);
});

// The same groups on the hand-written collections of the crash-window tests (fake-mongo.ts),
// whose query and pipeline semantics are written independently of mingo's.
describe('mongo store on the crash-window collections', () => {
  let database = fakeDatabase();
  const fixture = useFixture({
    setup: async () => {
      database = fakeDatabase();
    },
    createStore: () => mongoStore({ db: database.db }),
  });
  auditContract(fixture);
  autoPauseContract(fixture);
  backfillContract(fixture);
  finishAndClaimContract(fixture);
});

class Crash extends Error {}

/** Make the next `operation` on `collection` fail as if the process died just before it. */
function crashBefore(name: string, operation: string) {
  const collection = current.collection(name);
  collection.beforeWrite = (called) => {
    if (called !== operation) return;
    collection.beforeWrite = () => {};
    throw new Crash(`crashed before ${operation} on ${name}`);
  };
}

async function freshStore() {
  current = fakeMongoDb();
  const store = mongoStore({ db: current.db, collectionPrefix: 'ck_' });
  await store.init();
  return store;
}

describe('mongo audit entries across a crash', () => {
  it('an entry written with its job but not yet copied appears after the next lease recovery, once', async () => {
    const store = await freshStore();
    crashBefore('ck_audit', 'insertOne');
    const entry = newAuditEntry({ action: 'created', job: 'nightly' });
    await expect(store.insertJob(newJob({ name: 'nightly' }), { audit: entry })).rejects.toThrow(Crash);
    // The job exists and carries its entry: the change and its record were one write.
    expect(await store.findJobByName(null, 'nightly')).not.toBeNull();
    expect((await store.listAudit({ limit: 10 })).items).toEqual([]);
    await store.findExpiredLeases({ now: T0, limit: 10 });
    await store.findExpiredLeases({ now: T0, limit: 10 });
    const { items } = await store.listAudit({ limit: 10 });
    expect(items.map(({ id: _id, ...rest }) => rest)).toEqual([entry]);
    expect(current.collection('ck_jobs').docs[0]?.auditOutbox).toEqual([]);
  });

  it('an update whose copy crashed is recorded once, with the version it wrote', async () => {
    const store = await freshStore();
    const job = await store.insertJob(newJob({ name: 'tuned' }));
    crashBefore('ck_audit', 'insertOne');
    await expect(
      store.updateJob({
        id: job.id,
        expectedVersion: 1,
        patch: { priority: 3 },
        now: at(1),
        audit: newAuditEntry({ job: 'tuned' }),
      }),
    ).rejects.toThrow(Crash);
    expect((await store.getJob(job.id))?.version).toBe(2);
    await store.findExpiredLeases({ now: T0, limit: 10 });
    expect((await store.listAudit({ limit: 10 })).items).toHaveLength(1);
  });

  it('a deletion that crashed before deleting leaves no entry once the grace has passed', async () => {
    const store = await freshStore();
    const job = await store.insertJob(newJob({ name: 'kept' }));
    crashBefore('ck_jobs', 'findOneAndDelete');
    const entry = newAuditEntry({ action: 'deleted', job: 'kept', at: T0 });
    await expect(store.deleteJob({ id: job.id, now: T0, audit: entry })).rejects.toThrow(Crash);
    expect((await store.listAudit({ limit: 10 })).items).toEqual([]);
    await store.findExpiredLeases({ now: at(PENDING_DELETE_GRACE_MS + MINUTE), limit: 10 });
    expect(current.collection('ck_audit').docs).toEqual([]);
    expect(await store.getJob(job.id)).not.toBeNull();
  });

  it('a deletion that crashed after deleting is recorded once the grace has passed, not before', async () => {
    const store = await freshStore();
    const job = await store.insertJob(newJob({ name: 'gone' }));
    crashBefore('ck_audit', 'updateOne');
    const entry = newAuditEntry({ action: 'deleted', job: 'gone', at: T0 });
    await expect(store.deleteJob({ id: job.id, now: T0, audit: entry })).rejects.toThrow(Crash);
    expect(await store.getJob(job.id)).toBeNull();
    await store.findExpiredLeases({ now: at(1), limit: 10 });
    expect((await store.listAudit({ limit: 10 })).items).toEqual([]);
    await store.findExpiredLeases({ now: at(PENDING_DELETE_GRACE_MS + MINUTE), limit: 10 });
    expect((await store.listAudit({ limit: 10 })).items.map((item) => item.action)).toEqual(['deleted']);
  });
});
