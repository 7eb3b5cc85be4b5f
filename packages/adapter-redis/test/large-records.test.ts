import { redisStore } from '@cronkeeper/adapter-redis';
import type { Run, Store } from '@cronkeeper/core';
import { at, MINUTE, newJob, newRun, T0 } from '@cronkeeper/core/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyLayout } from '../src/keys.js';
import { RECORD_JSON_MAX_BYTES } from '../src/lua/prelude.js';
import { runScript, SCRIPTS } from '../src/scripts.js';
import { connect, deleteKeysUnder, redisAvailable, uniquePrefix } from './redis.js';

// Scripts answer a record as one JSON text, which escaping can make several times longer than the
// record; past the longest string V8 can build, the reply could not be read at all, losing the
// runs answered with it. A record over RECORD_JSON_MAX_BYTES is therefore answered field by field.
const prefix = uniquePrefix('large-records');
let client: Redis;
let store: Store;

/** A pending run whose params hold about `bytes` bytes of text. */
async function runOfSize(bytes: number): Promise<Run> {
  const { run } = await store.createRun({
    run: newRun({ params: { blob: 'x'.repeat(bytes) } }),
    now: T0,
    rejectIfActive: false,
  });
  return run;
}

/** cancelRun's raw reply for `run`, as the script answers it. */
function rawCancelReply(run: Run): Promise<unknown> {
  return runScript(client, SCRIPTS.cancelRun, new KeyLayout(prefix).root, [
    run.id,
    String(T0.getTime()),
    JSON.stringify({ code: 'cancelled', message: 'cancelled' }),
  ]);
}

describe.skipIf(!redisAvailable)('redis: records too large for one JSON text', () => {
  beforeAll(async () => {
    client = connect();
    store = redisStore({ redis: client, prefix });
    await store.init();
  });
  afterAll(async () => {
    if (!client) return;
    await deleteKeysUnder(client, prefix);
    client.disconnect();
  });

  it('are answered field by field past the limit and as one JSON text below it, read back the same either way', async () => {
    const small = await runOfSize(1024);
    const large = await runOfSize(RECORD_JSON_MAX_BYTES + 1024);

    expect(typeof (await rawCancelReply(small))).toBe('string');
    expect(Array.isArray(await rawCancelReply(large))).toBe(true);

    // Through the store, the large run reads the same from a script's reply and from a plain read.
    const another = await runOfSize(RECORD_JSON_MAX_BYTES + 1024);
    const cancelled = await store.cancelRun({ runId: another.id, now: T0, by: null });
    expect(cancelled).toEqual(await store.getRun(another.id));
    expect(cancelled?.status).toBe('cancelled');
    expect(((cancelled as Run).params as { blob: string }).blob).toHaveLength(RECORD_JSON_MAX_BYTES + 1024);
  }, 60_000);

  it('leave no due job out of the due-job search, however large its record', async () => {
    const large = await store.insertJob(
      newJob({
        name: 'large',
        params: { blob: 'x'.repeat(RECORD_JSON_MAX_BYTES + 1024) },
        nextRunAt: at(MINUTE),
      }),
    );
    const small = await store.insertJob(newJob({ name: 'small', nextRunAt: at(MINUTE) }));
    const due = await store.findDueJobs({ now: at(MINUTE), limit: 10 });
    expect(due.map((job) => job.id).sort()).toEqual([large.id, small.id].sort());
    expect(due.find((job) => job.id === large.id)).toEqual(await store.getJob(large.id));
  }, 60_000);
});
