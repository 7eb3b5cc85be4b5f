import type { ClaimResult, ClaimRunsInput, FinishedRun, FinishRunInput, Store } from './store.js';

/** Store calls finishing runs that may be in flight at once; more finishes wait and go together. */
const FINISH_LANES = 4;
/** Runs finished per store call at most. */
const FINISH_BATCH = 100;

/**
 * A claim to send along with a batch of finishes: the slots those finishes free go to the next
 * due runs in the same store call. `settle` gets the claim's result, or null when the call failed.
 */
export interface ClaimAlong {
  input: ClaimRunsInput;
  settle(result: ClaimResult | null): void;
}

/** Decides, as a batch leaves, whether a claim goes with it (see {@link ClaimAlong}). */
export type ClaimPlanner = (batch: readonly FinishRunInput[]) => ClaimAlong | null;

interface PendingFinish {
  input: FinishRunInput;
  resolve: (run: FinishedRun | null) => void;
  reject: (error: unknown) => void;
}

/**
 * Finishes of runs that end at about the same time, sent together. Each `finishRuns` call is a
 * round trip (a statement and a commit on PostgreSQL, a script on Redis), and with many runs in
 * flight they end in bursts. A finish goes out once the current I/O callback is over, with those
 * asked alongside it; when `FINISH_LANES` calls are already in flight it waits for one of them and
 * leaves with everything asked meanwhile. Under light load each finish still leaves at once.
 * Each caller gets its own run (or null) back, or the store's error. With a `planner`, a batch that
 * frees slots of this instance claims the next runs for them in the same call (`finishAndClaim`).
 */
export class FinishBatcher {
  #queue: PendingFinish[] = [];
  #inFlight = 0;
  #scheduled = false;

  constructor(
    private readonly store: Pick<Store, 'finishRuns' | 'finishAndClaim'>,
    private readonly planner: ClaimPlanner = () => null,
  ) {}

  finish(input: FinishRunInput): Promise<FinishedRun | null> {
    return new Promise<FinishedRun | null>((resolve, reject) => {
      this.#queue.push({ input, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= FINISH_LANES || this.#queue.length === 0) return;
    this.#scheduled = true;
    // After the current I/O callback rather than its microtasks: the runs one answer started end
    // in that callback's microtasks, each a few awaits apart, and then leave in one call.
    setImmediate(() => {
      this.#scheduled = false;
      void this.#send();
    });
  }

  async #send(): Promise<void> {
    const batch = this.#queue.splice(0, FINISH_BATCH);
    if (batch.length === 0) return;
    const inputs = batch.map((entry) => entry.input);
    const claim = this.planner(inputs);
    // A batch that claims takes every lane: the finishes that come meanwhile (most often those of
    // the runs it claims, a round trip later) wait for it and leave together, with one claim for
    // all their slots, instead of as many small calls.
    const lanes = claim ? FINISH_LANES : 1;
    this.#inFlight += lanes;
    this.#schedule();
    try {
      const runs = claim ? await this.#finishAndClaim(inputs, claim) : await this.store.finishRuns(inputs);
      if (runs.length !== batch.length)
        throw new Error(`finishRuns answered ${runs.length} results for ${batch.length} runs`);
      batch.forEach((entry, index) => {
        entry.resolve(runs[index] ?? null);
      });
    } catch (error) {
      if (batch.length === 1) (batch[0] as PendingFinish).reject(error);
      else await this.#finishEachAlone(batch);
    } finally {
      this.#inFlight -= lanes;
      this.#schedule();
    }
  }

  /**
   * A batch the store refused as a whole is sent again one finish at a time: a finish the store
   * cannot take (a value one backend refuses) then fails alone instead of leaving every run
   * batched with it running until its lease lapses. When the store itself is down, each call
   * fails on its own, as the batch did.
   */
  async #finishEachAlone(batch: PendingFinish[]): Promise<void> {
    await Promise.all(
      batch.map(async (entry) => {
        try {
          const [run] = await this.store.finishRuns([entry.input]);
          entry.resolve(run ?? null);
        } catch (error) {
          entry.reject(error);
        }
      }),
    );
  }

  async #finishAndClaim(inputs: FinishRunInput[], claim: ClaimAlong): Promise<(FinishedRun | null)[]> {
    let result: Awaited<ReturnType<Store['finishAndClaim']>>;
    try {
      result = await this.store.finishAndClaim({ finishes: inputs, claim: claim.input });
    } catch (error) {
      claim.settle(null);
      throw error;
    }
    claim.settle({ claimed: result.claimed, skipped: result.skipped });
    return result.finished;
  }
}
