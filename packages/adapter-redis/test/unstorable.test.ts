import { redisStore } from '@cronkeeper/adapter-redis';
import { createScheduler, ValidationError } from '@cronkeeper/core';
import { at, MINUTE, manualClock, newJob, newRun, newRunOf, T0 } from '@cronkeeper/core/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, deleteKeysUnder, redisAvailable, uniquePrefix } from './redis.js';

// Redis would keep text PostgreSQL refuses (and JSON-encode an unpaired surrogate as U+FFFD in
// one record but not in another), so such text must be refused before it reaches the store.
const prefix = uniquePrefix('unstorable');
let client: Redis;

describe.skipIf(!redisAvailable)('redis: unstorable text is bad input', () => {
  beforeAll(async () => {
    client = connect();
  });
  afterAll(async () => {
    if (!client) return;
    await deleteKeysUnder(client, prefix);
    client.disconnect();
  });

  it('refuses a pause note with NUL or an unpaired surrogate as a ValidationError on note, the job and its audit trail left as they were', async () => {
    const scheduler = createScheduler({
      store: redisStore({ redis: client, prefix }),
      clock: manualClock('2026-03-01T00:00:00Z'),
      executors: { echo: { run: () => 'ok' } },
      logger: false,
      maintenanceJobs: false,
    });
    await scheduler.jobs.create({ name: 'pause-note', schedule: 'daily', executor: 'echo' });
    const before = await scheduler.jobs.get('pause-note');
    for (const note of ['a\u0000b', 'a\uD800b']) {
      const error = await scheduler.jobs.pause('pause-note', note).then(
        () => null,
        (caught: unknown) => caught,
      );
      expect(error, JSON.stringify(note)).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).path).toBe('note');
    }
    expect(await scheduler.jobs.get('pause-note')).toEqual(before);
    const audit = await scheduler.audit.list({ job: 'pause-note' });
    expect(audit.items.map((entry) => entry.action)).toEqual(['created']);
  });
});

describe.skipIf(!redisAvailable)('redis: a created run answered from the fields sent', () => {
  const createdPrefix = uniquePrefix('created-as-stored');
  let redis: Redis;
  beforeAll(() => {
    redis = connect();
  });
  afterAll(async () => {
    if (!redis) return;
    await deleteKeysUnder(redis, createdPrefix);
    redis.disconnect();
  });

  it('reads as Redis keeps it, an unpaired surrogate (kept as U+FFFD) included, through createRun and fireSlots', async () => {
    // Only a caller of the Store itself can send such text: the scheduler refuses it.
    const store = redisStore({ redis, prefix: createdPrefix });
    const lone = { tenantId: '\uD800lone', triggeredBy: 'end\uDC00', jobName: 'pair 😀 kept' };
    const { run } = await store.createRun({ run: newRun(lone), now: T0, rejectIfActive: false });
    expect(run.tenantId).toBe('\uFFFDlone');
    expect(run).toEqual(await store.getRun(run.id));
    const job = await store.insertJob(newJob({ name: 'lone-surrogates', nextRunAt: T0 }));
    const [fired] = await store.fireSlots([
      { jobId: job.id, expectedNextRunAt: T0, nextRunAt: at(MINUTE), now: T0, runs: [newRunOf(job, lone)] },
    ]);
    const [created] = fired?.created ?? [];
    expect(created?.triggeredBy).toBe('end\uFFFD');
    expect(created?.jobName).toBe('pair 😀 kept');
    expect(created).toEqual(await store.getRun((created as { id: string }).id));
  });
});
