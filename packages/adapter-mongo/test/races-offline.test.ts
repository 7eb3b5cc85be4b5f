import { mongoStore } from '@cronkeeper/adapter-mongo';
import { newRun, T0 } from '@cronkeeper/core/testing';
import type { Collection, Document } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { claimDueRuns } from '../src/claims.js';
import { encodeNewRun, type RunDocument } from '../src/documents.js';
import type { MongoDbLike } from '../src/options.js';

// How the store reacts to the answers the server gives when it loses a race, replayed without a
// server: each fake method answers from a script, in order, and records what it was asked.

const duplicateKey = () => Object.assign(new Error('E11000 duplicate key error'), { code: 11000 });

type Answer = Document | null | Error;

function scripted(answers: Record<string, Answer[]>) {
  const asked: { method: string; filter: Document }[] = [];
  const answer = (method: string) => async (filter: Document) => {
    asked.push({ method, filter });
    const next = answers[method]?.shift();
    if (next === undefined) throw new Error(`unexpected ${method} ${JSON.stringify(filter)}`);
    if (next instanceof Error) throw next;
    return next;
  };
  const collection = {
    findOneAndUpdate: answer('findOneAndUpdate'),
    findOne: answer('findOne'),
    insertOne: answer('insertOne'),
  };
  return { collection: collection as unknown as Collection<RunDocument>, asked };
}

const pending = (overrides: Parameters<typeof newRun>[0], id: string): RunDocument =>
  encodeNewRun(newRun(overrides), id);
const claim = (runs: Collection<RunDocument>, limit = 1) =>
  claimDueRuns(runs, { workerId: 'w', now: T0, limit, leaseMs: 60_000 });

describe('claimRuns when an exclusive key is busy', () => {
  it('skips a run with overlap skip whose key is running elsewhere, and reports it', async () => {
    const blocked = pending({ concurrencyKey: 'job:s', overlap: 'skip' }, 'r1');
    const { collection, asked } = scripted({
      findOneAndUpdate: [duplicateKey(), duplicateKey(), { ...blocked, status: 'skipped' }, null],
      findOne: [blocked],
    });
    const result = await claim(collection);
    expect(result.claimed).toEqual([]);
    expect(result.skipped.map((run) => [run.id, run.status])).toEqual([['r1', 'skipped']]);
    // The skip is conditional on the run still being pending: a run claimed meanwhile is left alone.
    expect(asked[3]).toEqual({ method: 'findOneAndUpdate', filter: { _id: 'r1', status: 'pending' } });
  });

  it('leaves a queue run pending and claims the next run in line, of another key', async () => {
    const queued = pending({ concurrencyKey: 'job:q', overlap: 'queue' }, 'q1');
    const other = pending({ concurrencyKey: 'job:o' }, 'o1');
    const { collection, asked } = scripted({
      findOneAndUpdate: [duplicateKey(), duplicateKey(), { ...other, status: 'running', workerId: 'w' }],
      findOne: [queued],
    });
    const result = await claim(collection);
    expect(result).toMatchObject({ claimed: [{ id: 'o1', status: 'running' }], skipped: [] });
    expect(asked[3]?.filter.$nor).toEqual([{ concurrencyKey: { $in: ['job:q'] }, overlap: 'queue' }]);
  });

  it('claims the run first in line by id when its key freed in the meantime', async () => {
    const run = pending({ concurrencyKey: 'job:f' }, 'f1');
    const { collection } = scripted({
      findOneAndUpdate: [duplicateKey(), { ...run, status: 'running', workerId: 'w' }],
      findOne: [run],
    });
    expect((await claim(collection)).claimed.map((claimed) => claimed.id)).toEqual(['f1']);
  });

  it('passes any other server error on', async () => {
    const { collection } = scripted({ findOneAndUpdate: [new Error('not primary')] });
    await expect(claim(collection)).rejects.toThrow('not primary');
  });
});

describe('createRun with rejectIfActive when another caller wins the gate', () => {
  it('returns the winner as the active run instead of creating a second one', async () => {
    const winner = { ...pending({ concurrencyKey: 'job:m' }, 'winner'), activeKey: 'job:m' };
    const { collection, asked } = scripted({
      findOne: [null, winner],
      insertOne: [duplicateKey()],
    });
    const db = { collection: () => collection, command: async () => ({}) } as unknown as MongoDbLike;
    const result = await mongoStore({ db }).createRun({
      run: newRun({ concurrencyKey: 'job:m' }),
      now: T0,
      rejectIfActive: true,
    });
    expect(result).toMatchObject({ created: false, reason: 'active', run: { id: 'winner' } });
    expect(asked[2]).toEqual({ method: 'findOne', filter: { activeKey: { $eq: 'job:m', $exists: true } } });
  });
});

describe('fireSlots when the job is deleted while its slot fires', () => {
  it('cancels the runs it created once it finds the job gone, and reports them as they are stored', async () => {
    // The firing read the job (count 1), then the delete ran (cancelling the runs it could see),
    // then the firing inserted its run and lost the compare-and-set: the job is gone (count 0).
    const asked: string[] = [];
    const stored = new Map<string, RunDocument>();
    const counts = [1, 0];
    const jobs = {
      countDocuments: async (filter: Document) => {
        asked.push(`jobs.countDocuments ${JSON.stringify(filter)}`);
        return counts.shift();
      },
      updateOne: async () => {
        asked.push('jobs.updateOne');
        return { matchedCount: 0 };
      },
    };
    const runs = {
      insertOne: async (doc: RunDocument) => {
        asked.push('runs.insertOne');
        stored.set(doc._id, doc);
      },
      updateMany: async (filter: Document, update: Document | Document[]) => {
        asked.push(`runs.updateMany ${JSON.stringify(filter.status)}`);
        // The cancel is an update pipeline; its literal fields are all this test reads back.
        const stage = (Array.isArray(update) ? update[0] : update) as { $set: Record<string, unknown> };
        const set = Object.fromEntries(
          Object.entries(stage.$set).flatMap(([key, value]) =>
            value && typeof value === 'object' && '$literal' in value ? [[key, value.$literal]] : [],
          ),
        );
        for (const id of filter._id.$in as string[]) {
          const doc = stored.get(id);
          if (doc?.status === 'pending') stored.set(id, { ...doc, ...set } as RunDocument);
        }
      },
      findOne: async (filter: Document) => stored.get(filter._id as string) ?? null,
    };
    const db = {
      collection: (name: string) => (name.endsWith('jobs') ? jobs : runs),
      command: async () => ({}),
    } as unknown as MongoDbLike;
    const [result] = await mongoStore({ db }).fireSlots([
      {
        jobId: 'job-1',
        expectedNextRunAt: T0,
        nextRunAt: new Date(T0.getTime() + 60_000),
        runs: [newRun({ jobId: 'job-1', trigger: 'schedule', scheduledFor: T0, dedupeKey: 'slot:job-1:T0' })],
        now: T0,
      },
    ]);
    expect(result?.advanced).toBe(false);
    expect(result?.created).toHaveLength(1);
    expect(result?.created[0]).toMatchObject({ status: 'cancelled', error: { code: 'job_deleted' } });
    expect([...stored.values()].map((doc) => doc.status)).toEqual(['cancelled']);
    expect(asked).toEqual([
      'jobs.countDocuments {"_id":"job-1","nextRunAt":"2026-01-01T00:00:00.000Z"}',
      'runs.insertOne',
      'jobs.updateOne',
      'jobs.countDocuments {"_id":"job-1"}',
      'runs.updateMany "pending"',
    ]);
  });
});
