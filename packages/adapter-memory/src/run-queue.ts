import type { Run } from '@cronkeeper/core';
import { earlier, IndexedHeap, type Meter } from './heap.js';

type Place = 'waiting' | 'ready' | 'blocked';

/** What the queue asks its owner to do to a run it picked, while it keeps the indexes right. */
export interface ClaimActions {
  /** Make the run `running` (its `leaseUntil` must be set on return). */
  start(run: Run): void;
  /** Make the run `skipped` by the overlap policy. */
  skip(run: Run): void;
}

function claimOrder(a: Run, b: Run): boolean {
  if (a.priority !== b.priority) return a.priority < b.priority;
  const runAt = a.runAt.getTime() - b.runAt.getTime();
  if (runAt !== 0) return runAt < 0;
  return earlier(a.createdAt, b.createdAt, a.id, b.id);
}

function addTo(map: Map<string, Set<Run>>, key: string, run: Run): void {
  const set = map.get(key);
  if (set) set.add(run);
  else map.set(key, new Set([run]));
}

function removeFrom(map: Map<string, Set<Run>>, key: string, run: Run): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(run);
  if (set.size === 0) map.delete(key);
}

/**
 * Pending and running runs, indexed so a claim looks only at due runs. Pending runs wait in a heap
 * by `runAt`; a claim moves the due ones into a heap in claim order (priority, runAt, createdAt),
 * and `queue` runs whose concurrency key is busy are parked per key until it frees. Running runs
 * are counted per key and kept in a heap by `leaseUntil` for recovery.
 */
export class RunQueue {
  readonly #waiting: IndexedHeap<Run>;
  readonly #ready: IndexedHeap<Run>;
  // Per key, its parked `queue` runs in claim order: only the first goes back when the key frees.
  readonly #blocked = new Map<string, IndexedHeap<Run>>();
  // Keys whose exclusive runs all ended while some of their runs were parked.
  readonly #freed = new Set<string>();
  readonly #place = new Map<Run, Place>();
  readonly #pendingByKey = new Map<string, Set<Run>>();
  readonly #runningByKey = new Map<string, Set<Run>>();
  readonly #exclusive = new Map<string, number>();
  readonly #leases: IndexedHeap<Run>;
  // Runs in `ready` and `blocked` have runAt <= this; a query about an earlier instant must look at them too.
  #promotedUntil = Number.NEGATIVE_INFINITY;

  constructor(private readonly meter: Meter) {
    this.#waiting = new IndexedHeap<Run>((a, b) => earlier(a.runAt, b.runAt, a.id, b.id), meter);
    this.#ready = new IndexedHeap<Run>(claimOrder, meter);
    this.#leases = new IndexedHeap<Run>((a, b) => earlier(a.leaseUntil, b.leaseUntil, a.id, b.id), meter);
  }

  /** A new pending run. */
  addPending(run: Run): void {
    this.#wait(run);
    addTo(this.#pendingByKey, run.concurrencyKey, run);
  }

  /** A pending run leaves the queue (cancelled, deleted). */
  removePending(run: Run): void {
    this.#detach(run);
    removeFrom(this.#pendingByKey, run.concurrencyKey, run);
    // It may have been the run its key released: the next parked one takes its place.
    if (run.overlap !== 'allow') this.#release(run.concurrencyKey);
  }

  /** A running run ends (finished, recovered, failed as stale): frees its key for queued runs. */
  removeRunning(run: Run): void {
    removeFrom(this.#runningByKey, run.concurrencyKey, run);
    this.#leases.remove(run);
    if (run.overlap === 'allow') return;
    const left = (this.#exclusive.get(run.concurrencyKey) ?? 1) - 1;
    if (left > 0) {
      this.#exclusive.set(run.concurrencyKey, left);
      return;
    }
    this.#exclusive.delete(run.concurrencyKey);
    this.#release(run.concurrencyKey);
  }

  /**
   * The key may be free: a claim lets its first parked run go (see `#releaseFreed`). Only one, as
   * only one can start; releasing all of them made draining a backlog of n queued runs cost O(n²).
   */
  #release(key: string): void {
    if (!this.#exclusive.has(key) && this.#blocked.has(key)) this.#freed.add(key);
  }

  /**
   * For each freed key, the first of its parked runs that is due by this claim's clock goes back to
   * the claim order. Chosen at claim time, not when the key frees: with clocks that differ (or go
   * back), the first parked run may not be due yet for this caller while a later one is.
   */
  #releaseFreed(now: Date): void {
    for (const key of this.#freed) {
      const parked = this.#blocked.get(key);
      if (this.#exclusive.has(key) || !parked || parked.size === 0) {
        this.#freed.delete(key);
        continue;
      }
      for (const run of parked.ascending()) {
        if (run.runAt.getTime() > now.getTime()) continue;
        parked.remove(run);
        if (parked.size === 0) this.#blocked.delete(key);
        this.#ready.push(run);
        this.#place.set(run, 'ready');
        this.#freed.delete(key);
        break;
      }
    }
  }

  /** Change a running run's lease through `change`, keeping the lease heap ordered. */
  moveLease(run: Run, change: () => void): void {
    this.#leases.remove(run);
    change();
    this.#leases.push(run);
  }

  /** Every pending and running run. */
  *active(): Iterable<Run> {
    for (const runs of this.#pendingByKey.values()) yield* runs;
    for (const runs of this.#runningByKey.values()) yield* runs;
  }

  /** The pending and running runs of `key`. */
  *activeOfKey(key: string): Iterable<Run> {
    yield* this.#pendingByKey.get(key) ?? [];
    yield* this.#runningByKey.get(key) ?? [];
  }

  /** A run of `key` that makes `createRun({ rejectIfActive })` refuse: running, or pending and due. */
  activeRun(key: string, now: Date): Run | null {
    const running = this.#runningByKey.get(key);
    if (running) for (const run of running) return run;
    const pending = this.#pendingByKey.get(key);
    if (pending) for (const run of pending) if (run.runAt.getTime() <= now.getTime()) return run;
    return null;
  }

  /**
   * Start up to `limit` due runs in claim order, applying the overlap policy. Looks at the runs
   * that became due, the runs it starts or skips, and parks busy `queue` runs once.
   */
  claim(now: Date, limit: number, actions: ClaimActions): void {
    this.#promote(now);
    this.#releaseFreed(now);
    const notYet: Run[] = [];
    let started = 0;
    while (started < limit) {
      const run = this.#ready.pop();
      if (!run) break;
      this.meter.examined += 1;
      this.#place.delete(run);
      if (run.runAt.getTime() > now.getTime()) {
        notYet.push(run);
        continue;
      }
      if (run.overlap !== 'allow' && this.#exclusive.has(run.concurrencyKey)) {
        if (run.overlap === 'skip') {
          removeFrom(this.#pendingByKey, run.concurrencyKey, run);
          actions.skip(run);
        } else {
          this.#park(run);
        }
        continue;
      }
      removeFrom(this.#pendingByKey, run.concurrencyKey, run);
      actions.start(run);
      this.addRunning(run);
      started += 1;
    }
    for (const run of notYet) this.#wait(run);
  }

  /** The earliest pending `runAt` strictly after `now`. */
  nextAfter(now: Date): Date | null {
    let best: Date | null = null;
    for (const run of this.#waiting.ascending()) {
      if (run.runAt.getTime() > now.getTime()) {
        best = run.runAt;
        break;
      }
    }
    if (now.getTime() < this.#promotedUntil) {
      // Time went backwards since a claim promoted runs: those may now be in the future again.
      const promoted = [
        ...this.#ready.values(),
        ...[...this.#blocked.values()].flatMap((heap) => [...heap.values()]),
      ];
      for (const run of promoted) {
        if (run.runAt.getTime() > now.getTime() && (best === null || run.runAt < best)) best = run.runAt;
      }
    }
    return best;
  }

  /** Running runs whose lease ended before `now`, oldest lease first. */
  *expired(now: Date): Generator<Run, void, undefined> {
    for (const run of this.#leases.ascending()) {
      if ((run.leaseUntil as Date).getTime() >= now.getTime()) return;
      yield run;
    }
  }

  /** A run stored as running (claimed here, or created already running). */
  addRunning(run: Run): void {
    addTo(this.#runningByKey, run.concurrencyKey, run);
    this.#leases.push(run);
    if (run.overlap !== 'allow')
      this.#exclusive.set(run.concurrencyKey, (this.#exclusive.get(run.concurrencyKey) ?? 0) + 1);
  }

  #promote(now: Date): void {
    for (
      let run = this.#waiting.peek();
      run && run.runAt.getTime() <= now.getTime();
      run = this.#waiting.peek()
    ) {
      this.meter.examined += 1;
      this.#waiting.pop();
      this.#ready.push(run);
      this.#place.set(run, 'ready');
    }
    this.#promotedUntil = Math.max(this.#promotedUntil, now.getTime());
  }

  #park(run: Run): void {
    let parked = this.#blocked.get(run.concurrencyKey);
    if (!parked) {
      parked = new IndexedHeap<Run>(claimOrder, this.meter);
      this.#blocked.set(run.concurrencyKey, parked);
    }
    parked.push(run);
    this.#place.set(run, 'blocked');
  }

  #wait(run: Run): void {
    this.#waiting.push(run);
    this.#place.set(run, 'waiting');
  }

  #detach(run: Run): void {
    const place = this.#place.get(run);
    this.#place.delete(run);
    if (place === 'waiting') this.#waiting.remove(run);
    else if (place === 'ready') this.#ready.remove(run);
    else if (place === 'blocked') {
      const parked = this.#blocked.get(run.concurrencyKey);
      parked?.remove(run);
      if (parked?.size === 0) this.#blocked.delete(run.concurrencyKey);
    }
  }
}
