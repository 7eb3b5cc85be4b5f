import { JSON_SHAPES } from '@cronkeeper/core/contract';
import { newJob, newRun, T0 } from '@cronkeeper/core/testing';
import { BSON, type Document } from 'mongodb';
import { describe, expect, it } from 'vitest';
import {
  asNumber,
  decodeJob,
  decodeRun,
  encodeJobPatch,
  encodeJobTasks,
  encodeNewJob,
  encodeNewRun,
} from '../src/documents.js';

// Keys MongoDB update operators refuse or treat specially, and one JavaScript treats specially.
const awkward = JSON.parse(
  '{"dotted.key":{"$set":1,"__proto__":{"x":[1,"two",null,true,2.5]}},"$where":"","big":1099511627776}',
);

describe('job documents', () => {
  it('round-trip every field of a job, dates as Date objects and JSON exactly', () => {
    const input = newJob({
      tenantId: 'acme',
      tasks: [{ executor: 'report.build', enabled: false, params: awkward }],
      params: awkward,
      metadata: { nested: awkward },
      retry: { limit: 2, backoff: { type: 'exponential', delay: 1000, max: null } },
      activeFrom: new Date(T0.getTime() - 999),
      lastStatus: 'failed',
      lastError: '$not a field path',
    });
    const job = decodeJob(encodeNewJob(input, 'job-1'));
    expect(job).toEqual({ ...input, id: 'job-1', version: 1 });
    expect(Object.keys(job.params)).toContain('$where');
    expect(job.activeFrom).toBeInstanceOf(Date);
  });

  it('store user JSON as text, so no user key becomes a MongoDB field name', () => {
    const doc = encodeNewJob(newJob({ params: awkward, metadata: awkward }), 'job-1');
    expect(typeof doc.params).toBe('string');
    expect(typeof doc.metadata).toBe('string');
    expect(typeof doc.tasks[0]?.params).toBe('string');
    expect(doc).toMatchObject({ _id: 'job-1', version: 1, countedRunIds: [] });
  });

  it('hand out copies: changing a decoded job or the input leaves the document as it was', () => {
    const input = newJob({ params: { list: [1] } });
    const doc = encodeNewJob(input, 'job-1');
    input.nextRunAt?.setTime(0);
    const job = decodeJob(doc);
    job.createdAt.setTime(0);
    (job.params.list as number[]).push(2);
    expect(decodeJob(doc)).toEqual({
      ...newJob({ name: input.name, params: { list: [1] } }),
      id: 'job-1',
      version: 1,
    });
  });

  it('encode a patch as $set fields, leaving out frozen and undefined fields and keeping nulls', () => {
    const set = encodeJobPatch({
      name: 'renamed',
      description: null,
      params: { a: 1 },
      tasks: [{ executor: 'x', enabled: true, params: { b: 2 } }],
      nextRunAt: T0,
      runCount: 99,
      version: 7,
      createdAt: T0,
      pausedNote: undefined,
    });
    expect(set).toEqual({
      name: 'renamed',
      description: null,
      params: '{"a":1}',
      tasks: [{ executor: 'x', enabled: true, params: '{"b":2}' }],
      nextRunAt: T0,
    });
  });
});

describe('run documents', () => {
  it('round-trip every field of a run, tasks, logs and results included', () => {
    const input = newRun({
      status: 'failed',
      tasks: [
        {
          executor: 'test.echo',
          status: 'failed',
          params: awkward,
          startedAt: T0,
          finishedAt: new Date(T0.getTime() + 5),
          result: ['$x', { 'a.b': null }],
          error: { code: 'error', message: 'boom' },
        },
      ],
      scheduledFor: T0,
      params: awkward,
      result: null,
      error: { code: 'timeout', message: 'too slow' },
      durationMs: 5,
      progress: { percent: 50, note: null },
      logs: [{ at: T0, level: 'warn', message: 'careful' }],
      dedupeKey: 'slot:job:2026',
    });
    expect(decodeRun(encodeNewRun(input, 'run-1'))).toEqual({ ...input, id: 'run-1' });
    expect(decodeRun(encodeNewRun({ ...input, result: 0 }, 'run-1')).result).toBe(0);
  });

  it('mark exclusive runs for the running-exclusive index, and set activeKey only for gated runs', () => {
    expect(encodeNewRun(newRun({ overlap: 'queue' }), 'a').exclusive).toBe(true);
    expect(encodeNewRun(newRun({ overlap: 'skip' }), 'b').exclusive).toBe(true);
    expect(encodeNewRun(newRun({ overlap: 'allow' }), 'c').exclusive).toBe(false);
    expect('activeKey' in encodeNewRun(newRun(), 'd')).toBe(false);
    expect(encodeNewRun(newRun({ concurrencyKey: 'job:1' }), 'e', 'job:1').activeKey).toBe('job:1');
  });

  it('drop internal fields when decoding', () => {
    const doc = {
      ...encodeNewRun(newRun(), 'run-1', 'key'),
      settlement: { since: T0, followUp: null },
    };
    const run = decodeRun(doc);
    expect(Object.keys(run)).not.toContain('exclusive');
    expect(Object.keys(run)).not.toContain('activeKey');
    expect(Object.keys(run)).not.toContain('settlement');
  });
});

/** What the server hands back for a document: BSON on the wire both ways. */
function throughBson<T extends Document>(doc: T): T {
  return BSON.deserialize(BSON.serialize(doc)) as T;
}

describe('JSON fidelity of documents', () => {
  const strings = JSON_SHAPES.filter(
    (entry): entry is readonly [string, string] => typeof entry[1] === 'string',
  );
  const all = Object.fromEntries(JSON_SHAPES.map(([label, value]) => [label, value]));

  it.each(JSON_SHAPES.map(([label, value]) => ({ label, value })))(
    'a run result, task result and params of $label come back exactly through BSON',
    ({ label, value }) => {
      const text = typeof value === 'string' ? value : label;
      const input = newRun({
        status: 'failed',
        params: { value, all },
        result: value,
        error: { code: 'error', message: text },
        triggeredBy: text,
        tasks: [
          {
            executor: 'test.echo',
            status: 'failed',
            params: { value },
            startedAt: T0,
            finishedAt: T0,
            result: value,
            error: { code: 'error', message: text },
          },
        ],
        progress: { percent: 10, note: text },
        logs: strings.map(([, message]) => ({ at: T0, level: 'info' as const, message })),
      });
      expect(decodeRun(throughBson(encodeNewRun(input, 'run-1')))).toEqual({ ...input, id: 'run-1' });
    },
  );

  it('job params, task params, metadata and text fields come back exactly through BSON', () => {
    for (const [label, text] of strings) {
      const input = newJob({
        name: label,
        description: text,
        pausedNote: text,
        lastError: text,
        params: all,
        metadata: { nested: all, list: JSON_SHAPES.map(([, value]) => value) },
        tasks: [{ executor: 'test.echo', enabled: true, params: all }],
      });
      expect(decodeJob(throughBson(encodeNewJob(input, 'job-1')))).toEqual({
        ...input,
        id: 'job-1',
        version: 1,
      });
    }
    expect(throughBson({ tasks: encodeJobTasks([{ executor: 'x', enabled: true, params: all }]) })).toEqual({
      tasks: [{ executor: 'x', enabled: true, params: JSON.stringify(all) }],
    });
  });
});

describe('asNumber', () => {
  it('reads 64-bit values however the client was configured to return them', () => {
    expect(asNumber(42)).toBe(42);
    expect(asNumber(86_400_000n)).toBe(86_400_000);
    expect(asNumber({ toNumber: () => 7 })).toBe(7);
    expect(() => asNumber('7')).toThrow(TypeError);
  });
});
