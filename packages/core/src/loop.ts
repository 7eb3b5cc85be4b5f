import type { SchedulerContext } from './context.js';
import type { Engine } from './engine.js';

/**
 * The background loop of a started scheduler. Each tick: fire due slots, recover lapsed leases
 * (every half lease, and when a watched lease may be taken over), claim what this instance has
 * room for, and sleep until the store's next due instant — capped by `pollMs`, and cut short by
 * `wake()` (a local trigger, a finished run, or a store notification from another instance).
 */
export class Loop {
  #running = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #immediate: ReturnType<typeof setImmediate> | undefined;
  #ticking: Promise<void> | null = null;
  #wakeRequested = false;
  /** Set by `wake()`: the next tick claims before firing, since a wake-up usually means a claimable run. */
  #claimFirst = false;
  #claiming: Promise<void> | null = null;
  #claimAgain = false;
  #lastRecovery = Number.NEGATIVE_INFINITY;
  /** When the last tick completed (core's clock), for health checks. */
  lastTickAt: Date | null = null;

  constructor(
    private readonly ctx: SchedulerContext,
    private readonly engine: Engine,
    private readonly options: { pollMs: number },
  ) {}

  start(): void {
    this.#running = true;
    this.wake();
  }

  /** Stop ticking; resolves when the tick in progress (if any) is over. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#clearTimers();
    await this.#ticking;
    await this.#claiming;
  }

  /** `start()` was called and `stop()` was not. */
  get running(): boolean {
    return this.#running;
  }

  /** Tick as soon as possible (coalesced with a tick already running). */
  wake(): void {
    if (!this.#running) return;
    this.#claimFirst = true;
    if (this.#ticking) {
      this.#wakeRequested = true;
      return;
    }
    this.#schedule(0);
  }

  /**
   * Claim for the slots free now, without the rest of a tick: what a finished run or another
   * instance's finished run calls for. Finding due jobs and the next wake-up time is the timer's
   * and `wake()`'s work; a run ending changes neither. Nothing is sent when no slot is free.
   */
  refill(): void {
    if (!this.#running || this.engine.room() <= 0) return;
    this.#claimNow().catch((error) => this.ctx.reportError('claim', error));
  }

  #clearTimers(): void {
    clearTimeout(this.#timer);
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#timer = undefined;
    this.#immediate = undefined;
  }

  #schedule(delayMs: number): void {
    this.#clearTimers();
    const run = () => {
      this.#timer = undefined;
      this.#immediate = undefined;
      this.#ticking = this.#tick().finally(() => {
        this.#ticking = null;
      });
    };
    // setTimeout(0) waits at least 1 ms in Node: on a wake-up that is most of a run-now's latency
    // with an in-memory store. setImmediate runs after pending I/O callbacks, so it still coalesces.
    if (delayMs <= 0) this.#immediate = setImmediate(run);
    else this.#timer = setTimeout(run, delayMs);
  }

  /**
   * Claim what this instance has room for and start executing it. Coalesced: asked while a claim is
   * in flight, it claims once more afterwards (room may have been filled or freed meanwhile). The
   * promise is that of the claim in flight only: a tick awaiting it must not wait for the claims
   * that finished runs elsewhere keep asking for, or it would fire due jobs late.
   */
  #claimNow(): Promise<void> {
    if (this.#claiming) {
      this.#claimAgain = true;
      return this.#claiming;
    }
    this.#claimAgain = false;
    this.#claiming = (async () => {
      const room = this.engine.room();
      if (!this.#running || room <= 0) return;
      // The engine reads the clock now, not at the tick's start: firing and recovery may have
      // taken a while, and claiming with an older reading would record a start before the run it
      // waited for had ended, and shorten the lease by the same amount.
      const { claimed, heldSince } = await this.engine.claim(room);
      for (const run of claimed) void this.engine.execute(run, heldSince);
    })().finally(() => {
      this.#claiming = null;
      if (this.#claimAgain) this.#claimNow().catch((error) => this.ctx.reportError('claim', error));
    });
    return this.#claiming;
  }

  async #tick(): Promise<void> {
    let delay = this.options.pollMs;
    const claimFirst = this.#claimFirst;
    this.#claimFirst = false;
    try {
      // Woken by a trigger, a finished run or another instance: the run that caused it is most
      // likely claimable already, so claim it before the (often empty) search for due jobs.
      if (claimFirst) await this.#claimNow();
      const now = this.ctx.clock.now();
      // Claim while the rest of a burst is still being fired, so the first fired slots start
      // without waiting for the last ones.
      const fired = await this.engine.fireDue(now, () => {
        this.#claimNow().catch((error) => this.ctx.reportError('claim', error));
      });
      let recovered = 0;
      const takeoverAt = this.engine.nextTakeoverAt();
      if (
        now.getTime() - this.#lastRecovery >= this.ctx.leaseMs / 2 ||
        (takeoverAt !== null && now.getTime() >= takeoverAt)
      ) {
        this.#lastRecovery = now.getTime();
        recovered = (await this.engine.recover(now)).length;
      }
      if (!claimFirst || fired.length > 0 || recovered > 0 || this.#claiming) await this.#claimNow();
      const wakeAt = await this.ctx.store.nextWakeAt({ now });
      const current = this.ctx.clock.now().getTime();
      if (wakeAt) delay = Math.min(delay, Math.max(0, wakeAt.getTime() - current));
      // A watched lease that may be taken over before the next poll: look again right then. (One
      // already due was just tried; it is looked at again at the next poll, not in a busy loop.)
      const nextTakeover = this.engine.nextTakeoverAt();
      if (nextTakeover !== null && nextTakeover > current) delay = Math.min(delay, nextTakeover - current);
      this.lastTickAt = this.ctx.clock.now();
    } catch (error) {
      this.ctx.reportError('tick', error);
    }
    if (!this.#running) return;
    if (this.#wakeRequested) {
      this.#wakeRequested = false;
      delay = 0;
    }
    this.#schedule(delay);
  }
}
