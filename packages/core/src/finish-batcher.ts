import type { FinishedRun, FinishRunInput, Store } from './store.js';

/** Store calls finishing runs that may be in flight at once; more finishes wait and go together. */
const FINISH_LANES = 4;
/** Runs finished per store call at most. */
const FINISH_BATCH = 100;

interface PendingFinish {
  input: FinishRunInput;
  resolve: (run: FinishedRun | null) => void;
  reject: (error: unknown) => void;
}

/**
 * Finishes of runs that end at about the same time, sent together. Each `finishRuns` call is a
 * round trip (a statement and a commit on PostgreSQL, a script on Redis), and with many runs in
 * flight they end in bursts. A finish goes out at the end of the current microtask, with those
 * asked alongside it; when `FINISH_LANES` calls are already in flight it waits for one of them and
 * leaves with everything asked meanwhile. Under light load each finish still leaves at once.
 * Each caller gets its own run (or null) back, or the store's error.
 */
export class FinishBatcher {
  #queue: PendingFinish[] = [];
  #inFlight = 0;
  #scheduled = false;

  constructor(private readonly store: Pick<Store, 'finishRuns'>) {}

  finish(input: FinishRunInput): Promise<FinishedRun | null> {
    return new Promise<FinishedRun | null>((resolve, reject) => {
      this.#queue.push({ input, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= FINISH_LANES || this.#queue.length === 0) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      void this.#send();
    });
  }

  async #send(): Promise<void> {
    const batch = this.#queue.splice(0, FINISH_BATCH);
    if (batch.length === 0) return;
    this.#inFlight++;
    this.#schedule();
    try {
      const runs = await this.store.finishRuns(batch.map((entry) => entry.input));
      if (runs.length !== batch.length)
        throw new Error(`finishRuns answered ${runs.length} results for ${batch.length} runs`);
      batch.forEach((entry, index) => {
        entry.resolve(runs[index] ?? null);
      });
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    } finally {
      this.#inFlight--;
      this.#schedule();
    }
  }
}
