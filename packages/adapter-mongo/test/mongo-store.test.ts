import { mongoStore } from '@cronkeeper/adapter-mongo';
import type { Store } from '@cronkeeper/core';
import { MINUTE, newJob, newRun, T0 } from '@cronkeeper/core/testing';
import type { Db, Document, MongoClient } from 'mongodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeNewRun, type JobDocument, type RunDocument } from '../src/documents.js';
import { CLAIM_ORDER, claimFilter } from '../src/queries.js';
import { connect, MONGODB_URI, uniqueDatabaseName } from './mongo.js';

// MongoDB-specific behaviour beyond the contract; skipped (silently: the contract file says so) without a server.
const databaseName = uniqueDatabaseName('store');
let client: MongoClient;
let db: Db;
let store: Store;
let test = 0;
const prefix = () => `s${test}_`;

/** Every stage name of a query plan, nested ones included. */
function stages(plan: Document): string[] {
  const names: string[] = plan.stage ? [plan.stage] : [];
  for (const child of [plan.inputStage, ...(plan.inputStages ?? [])]) if (child) names.push(...stages(child));
  return names;
}

describe.skipIf(!MONGODB_URI)('mongo store specifics', () => {
  beforeAll(async () => {
    client = connect();
    db = client.db(databaseName);
  });
  afterAll(async () => {
    await db.dropDatabase();
    await client.close();
  });
  beforeEach(async () => {
    test += 1;
    store = mongoStore({ db, collectionPrefix: prefix() });
    await store.init();
  });

  it('finishes a settlement a crashed instance left behind, once, on the next recovery pass', async () => {
    const job = await store.insertJob(newJob());
    const retry = encodeNewRun(newRun({ trigger: 'retry', dedupeKey: 'retry:crashed' }), 'retry-of-crashed');
    // What the finishing write leaves when the process dies right after it.
    const crashed: RunDocument = {
      ...encodeNewRun(
        newRun({ jobId: job.id, status: 'failed', startedAt: T0, durationMs: 1000 }),
        'crashed',
      ),
      finishedAt: new Date(T0.getTime() + 1000),
      error: { code: 'error', message: 'boom' },
      settlement: { since: new Date(T0.getTime() + 1000), followUp: retry },
    };
    await db.collection<RunDocument>(`${prefix()}runs`).insertOne(crashed);
    await store.findExpiredLeases({ now: T0, limit: 10 });
    await store.findExpiredLeases({ now: T0, limit: 10 });
    expect(await store.getJob(job.id)).toMatchObject({ runCount: 1, errorCount: 1, lastError: 'boom' });
    expect(await store.getRun('retry-of-crashed')).toMatchObject({ trigger: 'retry', status: 'pending' });
    const raw = await db.collection<RunDocument>(`${prefix()}runs`).findOne({ _id: 'crashed' });
    expect(raw).not.toHaveProperty('settlement');
  });

  it('a manual run leaves the active gate when it ends, so the next trigger is accepted', async () => {
    const runs = db.collection<RunDocument>(`${prefix()}runs`);
    const first = await store.createRun({
      run: newRun({ concurrencyKey: 'job:g' }),
      now: T0,
      rejectIfActive: true,
    });
    expect((await runs.findOne({ _id: first.run.id }))?.activeKey).toBe('job:g');
    await store.cancelRun({ runId: first.run.id, now: T0, by: null });
    expect(await runs.findOne({ _id: first.run.id })).not.toHaveProperty('activeKey');
    const next = await store.createRun({
      run: newRun({ concurrencyKey: 'job:g' }),
      now: T0,
      rejectIfActive: true,
    });
    expect(next.created).toBe(true);
  });

  it('finds due jobs and claimable runs through indexes, never a collection scan', async () => {
    for (let index = 0; index < 20; index++) {
      await store.insertJob(newJob({ nextRunAt: new Date(T0.getTime() + index * MINUTE) }));
      await store.createRun({
        run: newRun({ runAt: new Date(T0.getTime() + index * MINUTE) }),
        now: T0,
        rejectIfActive: false,
      });
    }
    const jobs = db.collection<JobDocument>(`${prefix()}jobs`);
    const runs = db.collection<RunDocument>(`${prefix()}runs`);
    const plans = [
      await jobs
        .find({ enabled: true, nextRunAt: { $lte: T0 } })
        .sort({ nextRunAt: 1, _id: 1 })
        .limit(10)
        .explain(),
      await runs.find(claimFilter(T0, new Set())).sort(CLAIM_ORDER).limit(1).explain(),
      await runs
        .find({ status: 'running', leaseUntil: { $lt: T0 } })
        .sort({ leaseUntil: 1, _id: 1 })
        .explain(),
    ];
    for (const plan of plans) {
      const names = stages(plan.queryPlanner.winningPlan.queryPlan ?? plan.queryPlanner.winningPlan);
      expect(names).toContain('IXSCAN');
      expect(names).not.toContain('COLLSCAN');
    }
  });
});
