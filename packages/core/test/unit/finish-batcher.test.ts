import { describe, expect, it } from 'vitest';
import { FinishBatcher } from '../../src/finish-batcher.js';
import type {
  ClaimResult,
  FinishAndClaimInput,
  FinishAndClaimResult,
  FinishRunInput,
} from '../../src/store.js';
import type { Run } from '../../src/types.js';

const finishOf = (runId: string): FinishRunInput => ({
  runId,
  fence: { workerId: 'w' },
  now: new Date(0),
  status: 'succeeded',
  result: null,
  error: null,
});

/**
 * A store whose `finishRuns` and `finishAndClaim` answer when told to, recording the batches they
 * were sent (a `finishAndClaim` call also records its claim's limit, and claims `claimed`).
 */
function heldStore(claimed: Run[] = []) {
  const calls: { ids: string[]; limit?: number; answer: (runs: (Run | null)[] | Error) => void }[] = [];
  const store = {
    finishRuns: (inputs: FinishRunInput[]) =>
      new Promise<(Run | null)[]>((resolve, reject) => {
        calls.push({
          ids: inputs.map((input) => input.runId),
          answer: (runs) => (runs instanceof Error ? reject(runs) : resolve(runs)),
        });
      }),
    finishAndClaim: ({ finishes, claim }: FinishAndClaimInput) =>
      new Promise<FinishAndClaimResult>((resolve, reject) => {
        calls.push({
          ids: finishes.map((input) => input.runId),
          limit: claim.limit,
          answer: (runs) =>
            runs instanceof Error ? reject(runs) : resolve({ finished: runs, claimed, skipped: [] }),
        });
      }),
  };
  return { store, calls };
}

const claimOf = (limit: number) => ({
  workerId: 'w',
  now: new Date(0),
  limit,
  leaseMs: 1_000,
});

const ran = (id: string) => ({ id }) as Run;
const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('FinishBatcher', () => {
  it('sends finishes asked together in one call and gives each caller its own run', async () => {
    const { store, calls } = heldStore();
    const batcher = new FinishBatcher(store);
    const finishes = ['a', 'b', 'c'].map((id) => batcher.finish(finishOf(id)));
    await settle();
    expect(calls.map((call) => call.ids)).toEqual([['a', 'b', 'c']]);
    calls[0]?.answer([ran('a'), null, ran('c')]);
    expect(await Promise.all(finishes)).toEqual([ran('a'), null, ran('c')]);
  });

  it('keeps at most four calls in flight and sends what waited meanwhile together', async () => {
    const { store, calls } = heldStore();
    const batcher = new FinishBatcher(store);
    const first: Promise<Run | null>[] = [];
    for (const id of ['1', '2', '3', '4']) {
      first.push(batcher.finish(finishOf(id)));
      await settle();
    }
    const waiting = ['5', '6'].map((id) => batcher.finish(finishOf(id)));
    await settle();
    expect(calls.map((call) => call.ids)).toEqual([['1'], ['2'], ['3'], ['4']]);
    calls[0]?.answer([ran('1')]);
    await settle();
    expect(calls.map((call) => call.ids).slice(4)).toEqual([['5', '6']]);
    for (const call of calls.slice(1, 4)) call.answer([ran(call.ids[0] as string)]);
    calls[4]?.answer([ran('5'), ran('6')]);
    expect(await Promise.all([...first, ...waiting])).toHaveLength(6);
  });

  it('sends a failed batch again one finish at a time, so only a finish the store refuses fails', async () => {
    const { store, calls } = heldStore();
    const batcher = new FinishBatcher(store);
    const finishing = ['a', 'poisoned', 'b'].map((id) => batcher.finish(finishOf(id)));
    await settle();
    calls[0]?.answer(new Error('invalid byte sequence'));
    await settle();
    expect(calls.slice(1).map(({ ids }) => ids)).toEqual([['a'], ['poisoned'], ['b']]);
    calls[1]?.answer([ran('a')]);
    calls[2]?.answer(new Error('invalid byte sequence'));
    calls[3]?.answer([ran('b')]);
    const [a, poisoned, b] = await Promise.allSettled(finishing);
    expect(a).toEqual({ status: 'fulfilled', value: ran('a') });
    expect(b).toEqual({ status: 'fulfilled', value: ran('b') });
    expect(poisoned).toMatchObject({ status: 'rejected', reason: { message: 'invalid byte sequence' } });
  });

  it('rejects every finish of a call the store failed, and a call answered with the wrong count', async () => {
    const { store, calls } = heldStore();
    const batcher = new FinishBatcher(store);
    const failed = [batcher.finish(finishOf('a')), batcher.finish(finishOf('b'))];
    await settle();
    calls[0]?.answer(new Error('connection reset'));
    await settle();
    // Sent again one at a time, each fails on its own as the batch did.
    calls[1]?.answer(new Error('connection reset'));
    calls[2]?.answer(new Error('connection reset'));
    for (const finishing of failed) await expect(finishing).rejects.toThrow('connection reset');
    const miscounted = batcher.finish(finishOf('c'));
    await settle();
    calls[3]?.answer([]);
    await expect(miscounted).rejects.toThrow('finishRuns answered 0 results for 1 runs');
  });

  it('sends a batch whose slots the planner claims for as one finishAndClaim, starting the claimed runs before the finishes resolve', async () => {
    const { store, calls } = heldStore([ran('next-1'), ran('next-2')]);
    const order: string[] = [];
    const planned: (readonly string[])[] = [];
    const batcher = new FinishBatcher(store, (batch) => {
      planned.push(batch.map((input) => input.runId));
      return {
        input: claimOf(batch.length),
        settle: (result: ClaimResult | null) => {
          order.push(`claimed ${result?.claimed.map((run) => run.id).join(',')}`);
        },
      };
    });
    const finishes = ['a', 'b'].map((id) =>
      batcher.finish(finishOf(id)).then((run) => order.push(`finished ${run?.id}`)),
    );
    await settle();
    expect(planned).toEqual([['a', 'b']]);
    expect(calls.map(({ ids, limit }) => ({ ids, limit }))).toEqual([{ ids: ['a', 'b'], limit: 2 }]);
    calls[0]?.answer([ran('a'), ran('b')]);
    await Promise.all(finishes);
    expect(order).toEqual(['claimed next-1,next-2', 'finished a', 'finished b']);
  });

  it('tells the planner no claim was made when finishAndClaim fails, and rejects the finishes', async () => {
    const { store, calls } = heldStore();
    const settled: (ClaimResult | null)[] = [];
    const batcher = new FinishBatcher(store, () => ({
      input: claimOf(1),
      settle: (result: ClaimResult | null) => settled.push(result),
    }));
    const failing = batcher.finish(finishOf('a'));
    await settle();
    calls[0]?.answer(new Error('connection reset'));
    await expect(failing).rejects.toThrow('connection reset');
    expect(settled).toEqual([null]);
  });
});
