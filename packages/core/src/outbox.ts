import type { StoreEvent } from './store.js';

/** Whether receiving `event` makes an instance look for work (see the scheduler's store listener). */
function wakesReceivers(event: StoreEvent): boolean {
  return event.type === 'wake' || (event.type === 'run' && event.status !== 'running');
}

/**
 * Outgoing store events, coalesced. Every `publish` is a round trip (on PostgreSQL a NOTIFY that
 * takes a database-wide lock at commit) and wakes every listening instance, so sending one per
 * run status change made notifications cost more than the runs. Events queue until the current
 * microtask ends, and while a publish is in flight; each flush then sends, in one `publish` call:
 * - per run, only its latest status (receivers re-read the run anyway, so an intermediate status
 *   would reach them describing a run that has already moved on);
 * - a `wake` only if nothing else in the flush wakes receivers already (one at most);
 * - `job` and `cancel` events as they are, in order.
 * A `running` status wakes nobody, so it waits up to `RUNNING_HOLD_MS` for its run's next status
 * (a short run then costs one publish, not two); everything else leaves at the end of the
 * microtask, so an idle instance's wake-ups are not delayed.
 */
export class Outbox {
  #queue: { event: StoreEvent; at: number }[] = [];
  #scheduled = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #inFlight: Promise<void> | null = null;
  /** The runs whose events the publish in flight carries. */
  #inFlightRuns = new Set<string>();

  constructor(
    private readonly send: (events: StoreEvent[]) => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  push(event: StoreEvent): void {
    this.#queue.push({ event, at: performance.now() });
    if (isHeld(event)) {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        this.#flush(false);
      }, RUNNING_HOLD_MS);
      this.#timer.unref?.();
      return;
    }
    if (this.#scheduled || this.#inFlight) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#flush(false);
    });
  }

  /**
   * Make way for the store to publish a later status of run `runId` itself: its queued `run`
   * events are dropped (sent later, they would reach other instances after that status), and when
   * the publish in flight carries one of them, this returns that publish, to be awaited so the
   * store's own announcement cannot overtake it. Nothing to wait for is the usual case, on the
   * path of every finish: it then returns undefined, costing the caller no await.
   */
  release(runId: string): Promise<void> | undefined {
    if (this.#queue.length > 0)
      this.#queue = this.#queue.filter(({ event }) => event.type !== 'run' || event.runId !== runId);
    return this.#inFlightRuns.has(runId) ? (this.#inFlight ?? undefined) : undefined;
  }

  /** Resolves once everything queued so far has been handed to the store (held events too). */
  async drain(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#inFlight || this.#queue.length > 0) {
      if (!this.#inFlight) this.#flush(true);
      await this.#inFlight;
    }
  }

  #flush(all: boolean): void {
    if (this.#inFlight || this.#queue.length === 0) return;
    const heldUntil = performance.now() - RUNNING_HOLD_MS;
    const latestRun = new Map<string, number>();
    this.#queue.forEach(({ event }, index) => {
      if (event.type === 'run') latestRun.set(event.runId, index);
    });
    // A young `running` event whose run has not moved on yet stays for a later flush.
    const keep = (entry: { event: StoreEvent; at: number }, index: number) =>
      !all &&
      isHeld(entry.event) &&
      entry.at > heldUntil &&
      latestRun.get((entry.event as { runId: string }).runId) === index;
    const staying = this.#queue.filter(keep);
    const batch = coalesce(this.#queue.filter((entry, index) => !keep(entry, index)).map((e) => e.event));
    this.#queue = staying;
    if (staying.length > 0 && !this.#timer) {
      this.#timer = setTimeout(
        () => {
          this.#timer = undefined;
          this.#flush(false);
        },
        Math.max(1, (staying[0]?.at ?? 0) - heldUntil),
      );
      this.#timer.unref?.();
    }
    if (batch.length === 0) return;
    this.#inFlightRuns = new Set(batch.flatMap((event) => (event.type === 'run' ? [event.runId] : [])));
    this.#inFlight = this.send(batch)
      .catch((error) => this.onError(error))
      .then(() => {
        this.#inFlight = null;
        this.#inFlightRuns = new Set();
        // Only what is ready leaves now; held events keep their timer.
        if (
          this.#queue.some((entry) => !isHeld(entry.event) || entry.at <= performance.now() - RUNNING_HOLD_MS)
        )
          this.#flush(false);
      });
  }
}

/** How long a `running` status may wait for the same run's next status before it is sent alone. */
const RUNNING_HOLD_MS = 50;

function isHeld(event: StoreEvent): boolean {
  return event.type === 'run' && event.status === 'running';
}

/** The events of `queue` worth sending, in order (see `Outbox`). */
export function coalesce(queue: readonly StoreEvent[]): StoreEvent[] {
  const latestRun = new Map<string, number>();
  queue.forEach((event, index) => {
    if (event.type === 'run') latestRun.set(event.runId, index);
  });
  const kept = queue.filter(
    (event, index) => event.type !== 'wake' && (event.type !== 'run' || latestRun.get(event.runId) === index),
  );
  const wake = queue.find((event) => event.type === 'wake');
  if (wake && !kept.some(wakesReceivers)) kept.push(wake);
  return kept;
}
