import type { SchedulerContext } from './context.js';
import type { Engine } from './engine.js';

/**
 * The background loop of a started scheduler. Each tick: fire due slots, recover lapsed leases
 * (every half lease), claim what this instance has room for, and sleep until the store's next due
 * instant — capped by `pollMs`, and cut short by `wake()` (a local trigger, a finished run, or a
 * store notification from another instance).
 */
export class Loop {
  #running = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #ticking: Promise<void> | null = null;
  #wakeRequested = false;
  #lastRecovery = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly ctx: SchedulerContext,
    private readonly engine: Engine,
    private readonly options: { pollMs: number; concurrency: number },
  ) {}

  start(): void {
    this.#running = true;
    this.wake();
  }

  /** Stop ticking; resolves when the tick in progress (if any) is over. */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    await this.#ticking;
  }

  /** Tick as soon as possible (coalesced with a tick already running). */
  wake(): void {
    if (!this.#running) return;
    if (this.#ticking) {
      this.#wakeRequested = true;
      return;
    }
    this.#schedule(0);
  }

  #schedule(delayMs: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#ticking = this.#tick().finally(() => {
        this.#ticking = null;
      });
    }, delayMs);
  }

  async #tick(): Promise<void> {
    let delay = this.options.pollMs;
    try {
      const now = this.ctx.clock.now();
      await this.engine.fireDue(now);
      if (now.getTime() - this.#lastRecovery >= this.ctx.leaseMs / 2) {
        this.#lastRecovery = now.getTime();
        await this.engine.recover(now);
      }
      const room = this.options.concurrency - this.engine.active.size;
      if (this.#running && room > 0) {
        // Read the clock again: firing and recovery may have taken a while, and claiming with the
        // tick's first reading would record a start before the run it waited for had ended, and
        // shorten the lease by the same amount.
        const claimedAt = this.ctx.clock.now();
        for (const run of await this.engine.claim(claimedAt, room)) void this.engine.execute(run);
      }
      const wakeAt = await this.ctx.store.nextWakeAt({ now });
      if (wakeAt) delay = Math.min(delay, Math.max(0, wakeAt.getTime() - this.ctx.clock.now().getTime()));
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
