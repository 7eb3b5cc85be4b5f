import { redisStore } from '@cronkeeper/adapter-redis';
import { createScheduler, ValidationError } from '@cronkeeper/core';
import { manualClock } from '@cronkeeper/core/testing';
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
