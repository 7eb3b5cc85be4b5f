import { describe, expect, it, type TestContext } from 'vitest';
import type { Store, StoreEvent } from '../store.js';
import type { Run } from '../types.js';
import type { ContractFixture } from './harness.js';
import { at, newRun, SECOND, T0 } from './records.js';
import { eventually, startRun } from './steps.js';

const EVENTS: StoreEvent[] = [
  { type: 'wake', origin: 'instance-a' },
  { type: 'run', origin: 'instance-a', runId: 'run-1', status: 'succeeded', tenantId: 'acme' },
  { type: 'job', origin: 'instance-a', jobId: 'job-1', name: 'nightly', tenantId: null, change: 'paused' },
  { type: 'cancel', origin: 'instance-a', runId: 'run-2' },
  { type: 'cancel', origin: 'instance-a', runId: 'run-3', by: 'ops@example.com' },
];

type Subscribing = Store & Required<Pick<Store, 'publish' | 'subscribe'>>;

/**
 * Two instances when the store declares `subscribe`; otherwise the test is skipped with the reason,
 * so the report says what was not checked (a store without the capability is checked by the test
 * that it offers neither method).
 */
async function subscribingPair(
  fixture: ContractFixture,
  ctx: TestContext,
): Promise<[Subscribing, Subscribing]> {
  const [a, b] = (await fixture.instances(2)) as [Store, Store];
  ctx.skip(!a.capabilities.subscribe, 'the store declares no subscribe capability: nothing to deliver');
  for (const store of [a, b]) {
    expect(typeof store.publish).toBe('function');
    expect(typeof store.subscribe).toBe('function');
  }
  return [a as Subscribing, b as Subscribing];
}

/**
 * Two subscribing instances of a store that declares `capability`, and what the second one hears;
 * skipped with the reason otherwise (core then publishes those events itself).
 */
async function announcingPair(
  fixture: ContractFixture,
  ctx: TestContext,
  capability: 'announcesCreatedRuns' | 'announcesFinishedRuns',
) {
  const [a, b] = await subscribingPair(fixture, ctx);
  const what = capability === 'announcesCreatedRuns' ? 'created' : 'finished';
  ctx.skip(
    !a.capabilities[capability],
    `the store does not declare ${capability}: core announces ${what} runs itself`,
  );
  const heard: StoreEvent[] = [];
  const stop = await b.subscribe((event) => heard.push(event));
  return { a, b, heard, stop };
}

/** `heard` comes to equal `expected`, and still does a moment later (no late extra event). */
async function expectHeardExactly(heard: StoreEvent[], expected: StoreEvent[]): Promise<void> {
  await eventually(() => expect(heard).toEqual(expected));
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(heard).toEqual(expected);
}

/** Finish `run` (running under worker-a) as succeeded, announced as `origin`; its status after. */
async function succeedAnnounced(store: Store, run: Run, origin: string): Promise<string | null> {
  const [finished] = await store.finishRuns([
    {
      runId: run.id,
      fence: { workerId: 'worker-a' },
      now: at(SECOND),
      status: 'succeeded',
      result: null,
      error: null,
      announceAs: origin,
    },
  ]);
  return finished?.status ?? null;
}

/** publish / subscribe, present exactly when `capabilities.subscribe` is true. */
export function eventsContract(fixture: () => ContractFixture): void {
  describe('publish and subscribe', () => {
    it('offers neither publish nor subscribe when it declares no subscribe capability', async (ctx) => {
      const { store } = fixture();
      ctx.skip(store.capabilities.subscribe, 'the store declares the subscribe capability (checked below)');
      expect(store.publish).toBeUndefined();
      expect(store.subscribe).toBeUndefined();
      expect(store.capabilities.announcesCreatedRuns ?? false).toBe(false);
      expect(store.capabilities.announcesFinishedRuns ?? false).toBe(false);
    });

    it('delivers an event published on one instance to subscribers on every instance', async (ctx) => {
      const [a, b] = await subscribingPair(fixture(), ctx);
      const onA: StoreEvent[] = [];
      const onB: StoreEvent[] = [];
      const stopA = await a.subscribe((event) => onA.push(event));
      const stopB = await b.subscribe((event) => onB.push(event));
      await a.publish(EVENTS.slice(0, 2));
      await a.publish(EVENTS.slice(2));
      await a.publish([]);
      await eventually(() => {
        expect(onB).toEqual(EVENTS);
        expect(onA).toEqual(EVENTS);
      });
      await stopA();
      await stopB();
    });

    it('gives each listener its own copy of an event', async (ctx) => {
      const [a, b] = await subscribingPair(fixture(), ctx);
      const seen: StoreEvent[] = [];
      const vandal = await b.subscribe((event) => {
        Object.assign(event, { type: 'wake', origin: 'vandal', runId: 'changed', tenantId: 'other' });
      });
      const witness = await b.subscribe((event) => seen.push(event));
      await a.publish([EVENTS[1] as StoreEvent]);
      await eventually(() => expect(seen).toEqual([EVENTS[1]]));
      await vandal();
      await witness();
    });

    it('stops delivering to a listener once it unsubscribed', async (ctx) => {
      const [a, b] = await subscribingPair(fixture(), ctx);
      const stopped: StoreEvent[] = [];
      const still: StoreEvent[] = [];
      const stop = await b.subscribe((event) => stopped.push(event));
      const keep = await b.subscribe((event) => still.push(event));
      await a.publish([EVENTS[0] as StoreEvent]);
      await eventually(() => expect(stopped).toHaveLength(1));
      await stop();
      await a.publish([EVENTS[1] as StoreEvent]);
      await eventually(() => expect(still).toHaveLength(2));
      // Give a late delivery a moment to show up before concluding it never will.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(stopped).toEqual([EVENTS[0]]);
      await keep();
    });

    it('announces a run createRun created when given announceAs, if it declares announcesCreatedRuns', async (ctx) => {
      const { a, heard, stop } = await announcingPair(fixture(), ctx, 'announcesCreatedRuns');
      const run = newRun({ tenantId: 'acme' });
      const created = await a.createRun({ run, now: T0, rejectIfActive: true, announceAs: 'instance-a' });
      // Refused (the first is due and active), and created without announceAs: neither is announced.
      const refused = await a.createRun({ run, now: T0, rejectIfActive: true, announceAs: 'instance-a' });
      await a.createRun({ run: newRun(), now: T0, rejectIfActive: false });
      expect(refused.created).toBe(false);
      const expected: StoreEvent = {
        type: 'run',
        origin: 'instance-a',
        runId: created.run.id,
        status: 'pending',
        tenantId: 'acme',
      };
      await expectHeardExactly(heard, [expected]);
      await stop();
    });

    it('announces a global run with tenantId null, and never a run createRun found by its dedupe key', async (ctx) => {
      const { a, b, heard, stop } = await announcingPair(fixture(), ctx, 'announcesCreatedRuns');
      const run = newRun({ dedupeKey: 'announce-once' });
      const created = await a.createRun({ run, now: T0, rejectIfActive: false, announceAs: 'instance-a' });
      // The same slot created again (by this instance or another): the first run comes back, and
      // announcing it again would wake every instance for nothing.
      const again = await a.createRun({ run, now: T0, rejectIfActive: false, announceAs: 'instance-a' });
      const fromB = await b.createRun({ run, now: T0, rejectIfActive: true, announceAs: 'instance-b' });
      expect(created.created).toBe(true);
      expect([again, fromB].map((result) => (result.created ? 'created' : result.reason))).toEqual([
        'duplicate',
        'duplicate',
      ]);
      const expected: StoreEvent = {
        type: 'run',
        origin: 'instance-a',
        runId: created.run.id,
        status: 'pending',
        tenantId: null,
      };
      await expectHeardExactly(heard, [expected]);
      await stop();
    });

    it('announces each run a finish ended when given announceAs, if it declares announcesFinishedRuns', async (ctx) => {
      const { a, heard, stop } = await announcingPair(fixture(), ctx, 'announcesFinishedRuns');
      const later = at(SECOND);
      const started = (overrides: Partial<Run> = {}) => startRun(a, overrides, { workerId: 'worker-a' });
      const tenantRun = await started({ tenantId: 'acme' });
      const globalRun = await started();
      const quietRun = await started();
      const emptyRun = await started();
      const lostRun = await started();
      const claimingRun = await started();
      const base = { now: later, result: null, error: null } as const;
      const finished = await a.finishRuns([
        {
          ...base,
          runId: tenantRun.id,
          fence: { workerId: 'worker-a' },
          status: 'succeeded',
          announceAs: 'instance-a',
        },
        {
          ...base,
          runId: globalRun.id,
          fence: { workerId: 'worker-a' },
          status: 'failed',
          error: { code: 'error', message: 'boom' },
          announceAs: 'instance-a',
        },
        // Finished without announceAs (or with an empty one), or refused by its fence: none is announced.
        { ...base, runId: quietRun.id, fence: { workerId: 'worker-a' }, status: 'succeeded' },
        { ...base, runId: emptyRun.id, fence: { workerId: 'worker-a' }, status: 'succeeded', announceAs: '' },
        {
          ...base,
          runId: lostRun.id,
          fence: { workerId: 'someone-else' },
          status: 'succeeded',
          announceAs: 'instance-a',
        },
      ]);
      expect(finished.map((run) => run?.status ?? null)).toEqual([
        'succeeded',
        'failed',
        'succeeded',
        'succeeded',
        null,
      ]);
      // finishAndClaim announces its finishes the same way; what it claims is not a finish.
      const next = await a.createRun({ run: newRun(), now: later, rejectIfActive: false });
      const both = await a.finishAndClaim({
        finishes: [
          {
            ...base,
            runId: claimingRun.id,
            fence: { workerId: 'worker-a' },
            status: 'cancelled',
            announceAs: 'instance-b',
          },
        ],
        claim: { workerId: 'worker-a', now: later, limit: 1, leaseMs: 60_000 },
      });
      expect(both.claimed.map((run) => run.id)).toEqual([next.run.id]);
      const event = (
        run: Run,
        status: Extract<StoreEvent, { type: 'run' }>['status'],
        origin = 'instance-a',
      ): StoreEvent => ({
        type: 'run',
        origin,
        runId: run.id,
        status,
        tenantId: run.tenantId,
      });
      const expected = [
        event(tenantRun, 'succeeded'),
        event(globalRun, 'failed'),
        event(claimingRun, 'cancelled', 'instance-b'),
      ];
      await expectHeardExactly(heard, expected);
      expect(tenantRun.tenantId).toBe('acme');
      await stop();
    });

    it('finishes a run whose event is too long for its channel, and still wakes other instances', async (ctx) => {
      const { a, heard, stop } = await announcingPair(fixture(), ctx, 'announcesFinishedRuns');
      // About 8 400 bytes of tenant id: more than a PostgreSQL notification may carry.
      const run = await startRun(a, { tenantId: '漢'.repeat(2_800) }, { workerId: 'worker-a' });
      expect(await succeedAnnounced(a, run, 'instance-a')).toBe('succeeded');
      expect((await a.getRun(run.id))?.status).toBe('succeeded');
      // The event itself, or a wake-up in its place where the channel cannot carry it.
      const full: StoreEvent = {
        type: 'run',
        origin: 'instance-a',
        runId: run.id,
        status: 'succeeded',
        tenantId: run.tenantId,
      };
      await eventually(() => expect(heard).toHaveLength(1));
      expect([full, { type: 'wake', origin: 'instance-a' }]).toContainEqual(heard[0]);
      await stop();
    });

    it('finishes a run announced under an origin no event may carry, announcing nothing', async (ctx) => {
      const { a, heard, stop } = await announcingPair(fixture(), ctx, 'announcesFinishedRuns');
      const run = await startRun(a, {}, { workerId: 'worker-a' });
      expect(await succeedAnnounced(a, run, 'o'.repeat(9_000))).toBe('succeeded');
      await expectHeardExactly(heard, []);
      await stop();
    });
  });
}
