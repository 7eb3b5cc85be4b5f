import { mongoStore } from '@cronkeeper/adapter-mongo';
import { newRun, T0 } from '@cronkeeper/core/testing';
import type { Collection, Document } from 'mongodb';
import { describe, expect, it } from 'vitest';
import type { AuditDocument } from '../src/audit.js';
import { claimDueRuns } from '../src/claims.js';
import { encodeNewRun, type JobDocument, type RunDocument } from '../src/documents.js';
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
// These runs have no job, so the claim never needs to look one up (nor to write an audit entry).
const noJobs = {} as Collection<JobDocument>;
const noAudit = {} as Collection<AuditDocument>;
const claim = (runs: Collection<RunDocument>, limit = 1) =>
  claimDueRuns({ runs, jobs: noJobs, audit: noAudit }, { workerId: 'w', now: T0, limit, leaseMs: 60_000 });

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
