import { randomUUID } from 'node:crypto';
import { redisStore } from '@cronkeeper/adapter-redis';
import type { JsonObject, NewRun, Run, RunTask, Store } from '@cronkeeper/core';
import { at, newRun, SECOND, T0 } from '@cronkeeper/core/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimArgs, claimResult, HeldRuns } from '../src/claim-finish.js';
import { KeyLayout } from '../src/keys.js';
import { CREATED_FIELD, RECORD_JSON_MAX_BYTES } from '../src/lua/prelude.js';
import { SCRIPTS } from '../src/scripts.js';
import { connect, deleteKeysUnder, redisAvailable, uniquePrefix } from './redis.js';

// A claim answers a run from the fields it was created with (kept in one JSON text until the run
// ends) and what the claim wrote, instead of the hash. Whichever way it is answered, the claimed
// run must be the run a read gives right after the claim, and the text must not outlive the run.
const prefix = uniquePrefix('claim-reply');
let client: Redis;
let store: Store;
const keys = new KeyLayout(prefix);
const runKey = (id: string) => keys.run(id);

const pendingTask = (executor: string, params: JsonObject): RunTask => ({
  executor,
  status: 'pending',
  params,
  startedAt: null,
  finishedAt: null,
  result: null,
  error: null,
});

/** A run with every optional field set, and a text Redis cannot keep byte for byte (a lone surrogate). */
function richRun(overrides: Partial<NewRun> = {}): NewRun {
  return newRun({
    executor: 'report.send',
    tenantId: 'acme',
    trigger: 'once',
    scheduledFor: at(-SECOND),
    runAt: T0,
    createdAt: at(-2 * SECOND),
    params: { to: ['ünï', '日本'], note: 'a\uD800b', nested: { empty: [], n: 1.5 } },
    tasks: [pendingTask('report.send', { a: 1 }), pendingTask('report.log', {})],
    attempt: 2,
    maxAttempts: 3,
    parentRunId: '00000000-0000-4000-8000-000000000001',
    triggeredBy: 'ops\uDC00@acme',
    priority: -3,
    overlap: 'allow',
    concurrencyKey: 'executor:acme:report.send',
    dedupeKey: `once:${Math.random()}`,
    timeoutMs: 90_000,
    ...overrides,
  });
}

async function create(run: NewRun): Promise<Run> {
  const result = await store.createRun({ run, now: T0, rejectIfActive: false });
  if (!result.created) throw new Error('not created');
  return result.run;
}

async function claimAll(worker = 'worker-\uD800ü'): Promise<Run[]> {
  return (await store.claimRuns({ workerId: worker, now: at(SECOND), limit: 100, leaseMs: 30 * SECOND }))
    .claimed;
}

describe.skipIf(!redisAvailable)('redis: the answer of a claim', () => {
  beforeAll(async () => {
    client = connect();
    store = redisStore({ redis: client, prefix });
    await store.init();
  });

  afterAll(async () => {
    await deleteKeysUnder(client, prefix);
    await client.quit();
  });

  it('is the run as a read gives it after the claim, every field included', async () => {
    const created = await create(richRun());
    expect(await client.hexists(runKey(created.id), CREATED_FIELD)).toBe(1);
    const [claimed] = await claimAll();
    const read = await store.getRun(created.id);
    expect(claimed).toEqual(read);
    expect(claimed).toMatchObject({ status: 'running', workerId: 'worker-\uFFFDü', startedAt: at(SECOND) });
    expect(claimed?.leaseUntil).toEqual(at(31 * SECOND));
    // Redis keeps a lone surrogate of a text field as U+FFFD, and so does the claimed run; JSON
    // fields escape it, and keep it.
    expect(claimed?.triggeredBy).toBe('ops\uFFFD@acme');
    expect(claimed?.params.note).toBe('a\uD800b');
    await store.finishRuns([
      {
        runId: created.id,
        fence: { workerId: 'worker-\uD800ü' },
        now: at(2 * SECOND),
        status: 'succeeded',
        result: null,
        error: null,
      },
    ]);
  });

  it('is made from the fields the run was created with, not read back field by field', async () => {
    const created = await create(richRun());
    const text = JSON.parse((await client.hget(runKey(created.id), CREATED_FIELD)) as string);
    await client.hset(
      runKey(created.id),
      CREATED_FIELD,
      JSON.stringify({ ...text, triggeredBy: 'as created' }),
    );
    const [claimed] = await claimAll();
    expect(claimed?.triggeredBy).toBe('as created');
  });

  it('reads the hash of a run written without its created fields, as earlier versions wrote runs', async () => {
    const created = await create(richRun());
    await client.hdel(runKey(created.id), CREATED_FIELD);
    const [claimed] = await claimAll();
    expect(claimed).toEqual(await store.getRun(created.id));
    expect(claimed?.status).toBe('running');
  });

  it('gives a run created already ended no created fields, and drops them when a run ends', async () => {
    const ended = await create(richRun({ status: 'succeeded', finishedAt: T0, startedAt: at(-SECOND) }));
    expect(await client.hexists(runKey(ended.id), CREATED_FIELD)).toBe(0);

    const finished = await create(richRun());
    const failed = await create(richRun());
    const [a, b] = await claimAll('w');
    expect([a?.id, b?.id].sort()).toEqual([finished.id, failed.id].sort());
    await store.finishRuns([
      {
        runId: finished.id,
        fence: { workerId: 'w' },
        now: at(2 * SECOND),
        status: 'succeeded',
        result: 1,
        error: null,
      },
    ]);
    await store.failStaleRuns({
      startedBefore: at(5 * SECOND),
      now: at(5 * SECOND),
      error: { code: 'stale', message: 'gone' },
    });

    const cancelled = await create(richRun());
    await store.cancelRun({ runId: cancelled.id, now: at(3 * SECOND), by: 'ops' });

    // A queued run whose key is busy ends skipped by the claim that finds it so.
    const key = 'executor:acme:exclusive';
    await create(richRun({ overlap: 'queue', concurrencyKey: key, dedupeKey: null }));
    const [holder] = await claimAll('w');
    const skipped = await create(richRun({ overlap: 'skip', concurrencyKey: key, dedupeKey: null }));
    const claim = await store.claimRuns({ workerId: 'w', now: at(SECOND), limit: 10, leaseMs: 30 * SECOND });
    expect(claim.skipped.map((run) => run.id)).toEqual([skipped.id]);

    for (const run of [finished, failed, cancelled, skipped]) {
      const stored = await store.getRun(run.id);
      expect(stored?.status).not.toMatch(/pending|running/);
      expect(await client.hexists(runKey(run.id), CREATED_FIELD)).toBe(0);
    }
    expect(holder?.status).toBe('running');
    expect(await client.hexists(runKey(holder?.id as string), CREATED_FIELD)).toBe(1);
  });

  it('sent again after a dropped connection, is the run as it is now, not as it was claimed', async () => {
    const created = await create(richRun());
    // What the client library does when a reply is lost: the same script, the same request key.
    const request = `${keys.root}requests:${randomUUID()}`;
    const input = { workerId: 'w', now: at(SECOND), limit: 1, leaseMs: 30 * SECOND };
    const send = async () =>
      claimResult(
        (await client.call('evalsha', SCRIPTS.claimRuns.sha, 2, keys.root, request, ...claimArgs(input))) as [
          unknown[],
          unknown[],
        ],
        new HeldRuns(),
        input,
      );
    const first = await send();
    expect(first.claimed.map((run) => run.id)).toEqual([created.id]);
    await store.cancelRun({ runId: created.id, now: at(2 * SECOND), by: 'ops' });
    const again = await send();
    expect(again.claimed).toEqual([await store.getRun(created.id)]);
    expect(again.claimed[0]?.cancelRequested).toBe(true);
  });

  it('is read from the hash for a run whose fields, once escaped as JSON, pass what one text may hold', async () => {
    // Each control character is six characters once escaped: under the limit as stored, over it as one text.
    const wide = '\u0001'.repeat(Math.ceil(RECORD_JSON_MAX_BYTES / 6) + 1);
    const created = await create(richRun({ triggeredBy: wide, dedupeKey: null }));
    expect(await client.hexists(runKey(created.id), CREATED_FIELD)).toBe(0);
    const [claimed] = await claimAll();
    expect(claimed?.triggeredBy).toBe(wide);
    expect(claimed).toEqual(await store.getRun(created.id));
  });

  it('never shows the created fields to a read', async () => {
    const created = await create(richRun());
    const read = (await store.getRun(created.id)) as unknown as Record<string, unknown>;
    expect(Object.keys(read)).not.toContain(CREATED_FIELD);
    const page = await store.listRuns({ limit: 5 });
    for (const run of page.items) expect(Object.keys(run)).not.toContain(CREATED_FIELD);
  });
});
