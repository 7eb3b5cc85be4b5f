import { memoryStore } from '@cronkeeper/adapter-memory';
import { redisStore } from '@cronkeeper/adapter-redis';
import type { Job, NewRun, OverlapPolicy, Run, Store } from '@cronkeeper/core';
import { newJob, newRun, T0 } from '@cronkeeper/core/testing';
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkIndexes } from './invariants.js';
import { connect, deleteKeysUnder, redisAvailable, uniquePrefix } from './redis.js';

const SECOND = 1000;
const LEASE = 10 * SECOND;

type Op =
  | {
      kind: 'create';
      key: number;
      overlap: OverlapPolicy;
      priority: number;
      runAt: number;
      tenant: number;
      executor: number;
      dedupe: number | null;
      reject: boolean;
      job: number | null;
    }
  | { kind: 'claim'; worker: number; limit: number }
  | { kind: 'finish'; run: number; worker: number | null; status: 'succeeded' | 'failed' | 'cancelled' }
  | { kind: 'recover'; run: number }
  | {
      kind: 'finishClaim';
      runs: [number, number];
      status: 'succeeded' | 'failed';
      retry: boolean;
      worker: number;
      limit: number;
    }
  | { kind: 'renew'; run: number; worker: number | null }
  | { kind: 'cancel'; run: number }
  | { kind: 'stale'; olderThan: number }
  | { kind: 'advance'; by: number }
  | { kind: 'deleteJob'; job: number };

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('create' as const),
      key: fc.integer({ min: 0, max: 1 }),
      overlap: fc.constantFrom<OverlapPolicy>('skip', 'queue', 'allow'),
      priority: fc.integer({ min: -1, max: 1 }),
      runAt: fc.constantFrom(-2 * SECOND, 0, SECOND, 5 * SECOND),
      tenant: fc.integer({ min: 0, max: 1 }),
      executor: fc.integer({ min: 0, max: 1 }),
      dedupe: fc.option(fc.integer({ min: 0, max: 2 })),
      reject: fc.boolean(),
      job: fc.option(fc.integer({ min: 0, max: 1 })),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('claim' as const),
      worker: fc.integer({ min: 0, max: 1 }),
      limit: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('finish' as const),
      run: fc.nat(),
      worker: fc.option(fc.integer({ min: 0, max: 1 }), { freq: 1 }),
      status: fc.constantFrom('succeeded' as const, 'failed' as const, 'cancelled' as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('recover' as const), run: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('finishClaim' as const),
      runs: fc.tuple(fc.nat(), fc.nat()),
      status: fc.constantFrom('succeeded' as const, 'failed' as const),
      retry: fc.boolean(),
      worker: fc.integer({ min: 0, max: 1 }),
      limit: fc.integer({ min: 0, max: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('renew' as const),
      run: fc.nat(),
      worker: fc.option(fc.integer({ min: 0, max: 1 }), { freq: 1 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), run: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('stale' as const),
      olderThan: fc.constantFrom(SECOND, 20 * SECOND),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      by: fc.constantFrom(SECOND, 3 * SECOND, 15 * SECOND),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('deleteJob' as const), job: fc.integer({ min: 0, max: 1 }) }),
  },
);

/** A queued run parked behind a running one must be claimable once that one finishes. */
const QUEUED_AFTER_FINISH: Op[] = [
  {
    kind: 'create',
    key: 0,
    overlap: 'skip',
    priority: 0,
    runAt: -2000,
    tenant: 0,
    executor: 0,
    dedupe: null,
    reject: false,
    job: null,
  },
  {
    kind: 'create',
    key: 0,
    overlap: 'queue',
    priority: 0,
    runAt: -2000,
    tenant: 0,
    executor: 0,
    dedupe: null,
    reject: false,
    job: null,
  },
  { kind: 'claim', worker: 0, limit: 2 },
  { kind: 'finish', run: 0, worker: null, status: 'succeeded' },
];

const queued = (): Op => ({
  kind: 'create',
  key: 0,
  overlap: 'queue',
  priority: 0,
  runAt: -2000,
  tenant: 0,
  executor: 0,
  dedupe: null,
  reject: false,
  job: null,
});

/**
 * A backlog queued on one key: when the running run ends only the first queued run is released,
 * so cancelling that one before anyone claims it must release the next, or the rest never run.
 */
const RELEASED_RUN_CANCELLED: Op[] = [
  queued(),
  queued(),
  queued(),
  { kind: 'claim', worker: 0, limit: 3 },
  { kind: 'finish', run: 0, worker: 0, status: 'succeeded' },
  { kind: 'cancel', run: 1 },
  { kind: 'claim', worker: 1, limit: 3 },
];

/** Two runs of one job failed as stale in one sweep: the job's bookkeeping ends on the newer. */
const STALE_RUNS_OF_ONE_JOB: Op[] = [
  {
    kind: 'create',
    key: 0,
    overlap: 'skip',
    priority: 0,
    runAt: -2000,
    tenant: 0,
    executor: 0,
    dedupe: null,
    reject: false,
    job: 0,
  },
  {
    kind: 'create',
    key: 1,
    overlap: 'skip',
    priority: 0,
    runAt: -2000,
    tenant: 0,
    executor: 0,
    dedupe: null,
    reject: false,
    job: 0,
  },
  { kind: 'claim', worker: 0, limit: 2 },
  { kind: 'advance', by: 1000 },
  { kind: 'stale', olderThan: 1000 },
];

/** One store under test, with the ids it assigned to the runs and jobs of the sequence, in order. */
interface Side {
  store: Store;
  runs: string[];
  jobs: Job[];
}

/** Replaces store-assigned ids by their position in the sequence, so both stores' answers compare. */
function normalize(side: Side, value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_key, field: unknown) => {
      if (typeof field !== 'string') return field;
      const run = side.runs.indexOf(field);
      if (run >= 0) return `run#${run}`;
      const job = side.jobs.findIndex((candidate) => candidate.id === field);
      if (job >= 0) return `job#${job}`;
      return field;
    }),
  );
}

/** A set of runs whose order the contract leaves open: normalized, then sorted. */
const unordered = (side: Side, runs: Run[]) =>
  (normalize(side, runs) as Run[]).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

async function apply(side: Side, op: Op, now: Date, sequence: number): Promise<unknown> {
  const { store } = side;
  const runId = (index: number) => side.runs[index % Math.max(1, side.runs.length)] ?? 'none';
  switch (op.kind) {
    case 'create': {
      const job = op.job === null ? null : (side.jobs[op.job] as Job);
      const run: NewRun = newRun({
        jobId: job?.id ?? null,
        jobName: job?.name ?? null,
        executor: ['alpha', 'beta'][op.executor] as string,
        tenantId: [null, 'acme'][op.tenant] as string | null,
        concurrencyKey: `key-${op.key}`,
        overlap: op.overlap,
        priority: op.priority,
        runAt: new Date(now.getTime() + op.runAt),
        createdAt: new Date(T0.getTime() + sequence),
        dedupeKey: op.dedupe === null ? null : `dedupe-${op.dedupe}`,
      });
      const result = await store.createRun({ run, now, rejectIfActive: op.reject });
      if (result.created) side.runs.push(result.run.id);
      // Which active run blocks is not specified when several do: compare the outcome only.
      return result.created || result.reason === 'duplicate'
        ? result
        : { created: false, reason: result.reason };
    }
    case 'claim': {
      const result = await store.claimRuns({
        workerId: `w${op.worker}`,
        now,
        limit: op.limit,
        leaseMs: LEASE,
      });
      return result;
    }
    case 'finish': {
      const target = await store.getRun(runId(op.run));
      const workerId = op.worker === null ? (target?.workerId ?? 'w0') : `w${op.worker}`;
      return store
        .finishRuns([
          {
            runId: runId(op.run),
            fence: { workerId },
            now,
            status: op.status,
            result: { at: now.getTime() },
            error:
              op.status === 'succeeded'
                ? null
                : { code: 'error', message: `${op.status} at ${now.getTime()}` },
          },
        ])
        .then((finished) => finished[0] ?? null);
    }
    case 'recover': {
      const followUp = newRun({
        trigger: 'retry',
        attempt: 2,
        concurrencyKey: 'key-retry',
        dedupeKey: `retry-${op.run % Math.max(1, side.runs.length)}`,
        runAt: new Date(now.getTime() + SECOND),
        createdAt: new Date(T0.getTime() + sequence),
      });
      const finished =
        (
          await store.finishRuns([
            {
              runId: runId(op.run),
              fence: 'expired',
              now,
              status: 'failed',
              result: null,
              error: { code: 'stale', message: 'lapsed' },
              followUp,
            },
          ])
        )[0] ?? null;
      // Learn the follow-up's id through its dedupe key (it answers with the existing run).
      const retry = await store.createRun({ run: followUp, now, rejectIfActive: false });
      if (!side.runs.includes(retry.run.id)) side.runs.push(retry.run.id);
      return { finished, retry };
    }
    case 'finishClaim': {
      // A retry due at once, which the claim of the same call may take: one script adds it to
      // the indexes and then moves it.
      const followUp = newRun({
        trigger: 'retry',
        attempt: 2,
        concurrencyKey: 'key-retry',
        dedupeKey: `retry-fc-${sequence}`,
        runAt: now,
        createdAt: new Date(T0.getTime() + sequence),
      });
      const finishes = await Promise.all(
        op.runs.map(async (index, position) => {
          const target = await store.getRun(runId(index));
          return {
            runId: runId(index),
            fence: { workerId: target?.workerId ?? 'w0' },
            now,
            status: op.status,
            result: { at: now.getTime() },
            error: op.status === 'succeeded' ? null : { code: 'error', message: 'boom' },
            followUp: op.retry && op.status === 'failed' && position === 0 ? followUp : null,
          };
        }),
      );
      const result = await store.finishAndClaim({
        finishes,
        claim: { workerId: `w${op.worker}`, now, limit: op.limit, leaseMs: LEASE },
      });
      if (op.retry && op.status === 'failed') {
        const retry = await store.createRun({ run: followUp, now, rejectIfActive: false });
        if (!side.runs.includes(retry.run.id)) side.runs.push(retry.run.id);
      }
      return result;
    }
    case 'renew': {
      const target = await store.getRun(runId(op.run));
      const workerId = op.worker === null ? (target?.workerId ?? 'w0') : `w${op.worker}`;
      return store.renewLease({
        runId: runId(op.run),
        workerId,
        now,
        leaseMs: LEASE,
        progress: { percent: 50, note: null },
      });
    }
    case 'cancel':
      return store.cancelRun({ runId: runId(op.run), now, by: 'ops' });
    case 'stale':
      return unordered(
        side,
        await store.failStaleRuns({
          startedBefore: new Date(now.getTime() - op.olderThan),
          now,
          error: { code: 'stale', message: 'too old' },
        }),
      );
    case 'advance':
      return null;
    case 'deleteJob':
      return store.deleteJob({ id: (side.jobs[op.job] as Job).id, now });
  }
}

/** What both stores must agree on after the sequence: listings, counts and summaries. */
async function snapshot(side: Side, now: Date): Promise<unknown> {
  const { store } = side;
  const pages: Run[][] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listRuns({ limit: 7, cursor });
    pages.push(page.items);
    cursor = page.nextCursor;
  } while (cursor);
  // Claim whatever is left, far ahead: runs a store forgot to release show up here.
  const drain = await store.claimRuns({
    workerId: 'drain',
    now: new Date(now.getTime() + 3_600_000),
    limit: 100,
    leaseMs: LEASE,
  });
  return {
    drain,
    pages,
    byStatus: (await store.listRuns({ limit: 100, statuses: ['pending', 'skipped'] })).items,
    byTenant: (await store.listRuns({ limit: 100, tenantIds: ['acme'], executor: 'beta' })).items,
    active: await store.countActive({}),
    activeAcme: await store.countActive({ tenantIds: ['acme'] }),
    counts: await store.countRuns({
      from: new Date(T0.getTime() - 86_400_000),
      to: new Date(now.getTime() + 1),
    }),
    executors: (await store.executorSummaries({})).map((row) => ({
      ...row,
      lastRun: row.lastRun && { finishedAt: row.lastRun.finishedAt, status: row.lastRun.status },
    })),
    expired: unordered(
      side,
      await store.findExpiredLeases({ now: new Date(now.getTime() + LEASE + 1), limit: 100 }),
    ),
    wake: await store.nextWakeAt({ now }),
    jobs: await store.listJobs({}),
  };
}

describe.skipIf(!redisAvailable)(
  'redis store against the memory store (same operations, same answers)',
  () => {
    let admin: Redis;
    let client: Redis;
    const base = uniquePrefix('differential');
    beforeAll(() => {
      admin = connect();
      client = connect();
    });
    afterAll(async () => {
      await deleteKeysUnder(admin, base);
      await Promise.all([admin.quit(), client.quit()]);
    });

    it('answers every claim-path and admin call like the reference, and keeps its indexes consistent', async () => {
      let round = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(opArbitrary, { minLength: 1, maxLength: 40, size: 'max' }), async (ops) => {
          round += 1;
          const prefix = `${base}:${round}`;
          const sides: Side[] = [
            { store: memoryStore(), runs: [], jobs: [] },
            { store: redisStore({ redis: client, prefix }), runs: [], jobs: [] },
          ];
          for (const side of sides) {
            await side.store.init();
            for (const name of ['job-a', 'job-b'])
              side.jobs.push(await side.store.insertJob(newJob({ name, nextRunAt: null })));
          }
          let now = T0;
          for (const [index, op] of ops.entries()) {
            // Time moves on every step, so finishes rarely tie (which of two runs finished in the same
            // millisecond is "the last" is not specified).
            now = new Date(now.getTime() + 1 + (op.kind === 'advance' ? op.by : 0));
            const [reference, actual] = await Promise.all(sides.map((side) => apply(side, op, now, index)));
            expect(normalize(sides[1] as Side, actual), `step ${index}: ${JSON.stringify(op)}`).toEqual(
              normalize(sides[0] as Side, reference),
            );
          }
          const [reference, actual] = await Promise.all(sides.map((side) => snapshot(side, now)));
          expect(normalize(sides[1] as Side, actual)).toEqual(normalize(sides[0] as Side, reference));
          expect(await checkIndexes(admin, prefix)).toEqual([]);
          await deleteKeysUnder(admin, prefix);
        }),
        {
          numRuns: 300,
          examples: [[QUEUED_AFTER_FINISH], [STALE_RUNS_OF_ONE_JOB], [RELEASED_RUN_CANCELLED]],
        },
      );
      // 300 sequences of up to 40 steps on two stores: longer than one contract test on a busy machine.
    }, 60_000);
  },
);
