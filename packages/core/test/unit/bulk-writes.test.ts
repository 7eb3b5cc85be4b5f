import { describe, expect, it } from 'vitest';
import {
  createRunsInChunks,
  insertJobsInChunks,
  type JobChunkWriter,
  type RunChunkWriter,
} from '../../src/bulk-writes.js';
import type { CreateRunResult, NewRun } from '../../src/store.js';
import { newJob, newRun, T0 } from '../../src/testing/records.js';
import type { Job } from '../../src/types.js';

/** Lets pending promise callbacks and I/O callbacks run, a few turns of the event loop. */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
}

/** A chunk writer whose chunks are answered when the test says so, recording what was built and sent. */
function heldWriter(chunkSize: number, pipelined: boolean) {
  const built: string[][] = [];
  const sent: { names: string[]; answer: (outcome: Error | null) => void }[] = [];
  let inFlight = 0;
  let mostInFlight = 0;
  const writer: JobChunkWriter = {
    chunkSize,
    pipelined,
    writeChunk: () => Promise.reject(new Error('prepareChunk is given: writeChunk is not used')),
    prepareChunk: (jobs) => {
      built.push(jobs.map((job) => job.name));
      return () => {
        inFlight++;
        mostInFlight = Math.max(mostInFlight, inFlight);
        return new Promise<(Job | null)[]>((resolve, reject) => {
          sent.push({
            names: jobs.map((job) => job.name),
            answer: (outcome) => {
              inFlight--;
              if (outcome) reject(outcome);
              else resolve(jobs.map((job) => ({ ...job, id: `id-${job.name}`, version: 1 })));
            },
          });
        });
      };
    },
  };
  return { writer, built, sent, mostInFlight: () => mostInFlight };
}

const named = (count: number) =>
  Array.from({ length: count }, (_, index) => newJob({ name: `job-${index}` }));

describe('insertJobsInChunks with a pipelining writer', () => {
  it('sends the next chunk before the previous one is answered, never more than two at once, and answers in input order', async () => {
    const { writer, sent, mostInFlight } = heldWriter(2, true);
    const jobs = named(6);
    const done = insertJobsInChunks(jobs, undefined, writer);
    await settle();
    // The second chunk is at the server while the first one's answer is awaited.
    expect(sent.map((chunk) => chunk.names)).toEqual([
      ['job-0', 'job-1'],
      ['job-2', 'job-3'],
    ]);
    sent[1]?.answer(null);
    await settle();
    // A later chunk answered first does not let a third one go out ahead of the first's answer.
    expect(sent).toHaveLength(2);
    sent[0]?.answer(null);
    await settle();
    expect(sent).toHaveLength(3);
    sent[2]?.answer(null);
    const results = await done;
    expect(results.map((job) => job?.id)).toEqual(jobs.map((job) => `id-${job.name}`));
    expect(mostInFlight()).toBe(2);
  });

  it('rejects with a failed chunk and sends nothing after the chunk already on its way', async () => {
    const { writer, sent } = heldWriter(2, true);
    const done = insertJobsInChunks(named(8), undefined, writer);
    await settle();
    sent[0]?.answer(new Error('chunk refused'));
    await expect(done).rejects.toThrow('chunk refused');
    sent[1]?.answer(null);
    await settle();
    expect(sent).toHaveLength(2);
  });

  it('stops sending once a chunk failed, even while the one before it is still at the server', async () => {
    const { writer, sent } = heldWriter(2, true);
    const done = insertJobsInChunks(named(8), undefined, writer);
    done.catch(() => {});
    await settle();
    // The second chunk fails first; the first one then succeeds.
    sent[1]?.answer(new Error('second chunk refused'));
    await settle();
    sent[0]?.answer(null);
    await expect(done).rejects.toThrow('second chunk refused');
    await settle();
    expect(sent).toHaveLength(2);
  });
});

describe('insertJobsInChunks with a writer that is not pipelined', () => {
  it('sends one chunk at a time, and builds the next one while the previous one is at the server', async () => {
    const { writer, built, sent, mostInFlight } = heldWriter(2, false);
    const jobs = named(5);
    const done = insertJobsInChunks(jobs, undefined, writer);
    await settle();
    expect(sent).toHaveLength(1);
    expect(built).toHaveLength(2);
    sent[0]?.answer(null);
    await settle();
    expect(sent).toHaveLength(2);
    expect(built).toHaveLength(3);
    sent[1]?.answer(null);
    await settle();
    sent[2]?.answer(null);
    const results = await done;
    expect(results.map((job) => job?.id)).toEqual(jobs.map((job) => `id-${job.name}`));
    expect(mostInFlight()).toBe(1);
  });
});

describe('createRunsInChunks with a pipelined writer', () => {
  it('sends the next chunk before the previous one is answered, and answers in input order', async () => {
    const sent: { runs: NewRun[]; answer: () => void }[] = [];
    const writer: RunChunkWriter = {
      chunkSize: 2,
      pipelined: true,
      writeChunk: (runs) =>
        new Promise<CreateRunResult[]>((resolve) =>
          sent.push({
            runs,
            answer: () =>
              resolve(runs.map((run) => ({ created: true, run: { ...run, id: `id-${run.params.index}` } }))),
          }),
        ),
      createRun: () => Promise.reject(new Error('no input here needs createRun')),
    };
    const inputs = Array.from({ length: 5 }, (_, index) => ({
      run: newRun({ params: { index } }),
      now: T0,
      rejectIfActive: false,
    }));
    const done = createRunsInChunks(inputs, writer);
    await settle();
    expect(sent).toHaveLength(2);
    sent[0]?.answer();
    await settle();
    expect(sent).toHaveLength(3);
    sent[1]?.answer();
    sent[2]?.answer();
    const results = await done;
    expect(results.map((result) => result.run.id)).toEqual(inputs.map((_, index) => `id-${index}`));
  });
});
