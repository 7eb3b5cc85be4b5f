import type { SchedulerContext } from './context.js';
import type { Engine } from './engine.js';

/** The furthest ahead of its slot a schedule's run is created. */
const MAX_FIRE_LEAD_MS = 250;
/** How many recent firings set the lead. */
const LEAD_SAMPLES = 8;
/** Firings quicker than this (an in-memory store, or fake time) need no lead. */
const MIN_FIRE_LEAD_MS = 2;

/**
 * The background loop of a started scheduler. Each tick: fire due slots, recover lapsed leases
 * (every half lease, and when a watched lease may be taken over), claim what this instance has
 * room for, and sleep until the store's next due instant — capped by `pollMs`, and cut short by
 * `wake()` (a local trigger, a finished run, or a store notification from another instance).
 *
 * Slots are fired ahead of time by about as long as this instance's recent firings took (the
 * lead, at most {@link MAX_FIRE_LEAD_MS}): their runs are created pending a moment before the slot
 * and claimed when it comes, so a burst of due jobs starts on time instead of after its own
 * writes. The lead is measured on the scheduler's clock, so in fake time it is zero.
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
  /** How long (clock ms) the latest firings took, from the tick's start to their runs created. */
  #firingTimes: number[] = [];
  /** Every job slot due by this instant (clock ms) was fired by the last tick that completed. */
  #firedThrough = Number.NEGATIVE_INFINITY;
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
    await this.engine.startFiredAhead();
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

  /** How far ahead of its slot (ms) this instance fires a job: a little over its recent firings. */
  #lead(): number {
    const longest = Math.max(0, ...this.#firingTimes);
    return longest < MIN_FIRE_LEAD_MS ? 0 : Math.min(MAX_FIRE_LEAD_MS, Math.ceil(longest * 1.25));
  }

  #recordFiring(ms: number): void {
    this.#firingTimes.push(ms);
    if (this.#firingTimes.length > LEAD_SAMPLES) this.#firingTimes.shift();
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
      this.engine.executeAll(claimed, heldSince);
    })().finally(() => {
      this.#claiming = null;
      if (this.#claimAgain) this.#claimNow().catch((error) => this.ctx.reportError('claim', error));
    });
    return this.#claiming;
  }

  async #tick(): Promise<void> {
    let delay = this.options.pollMs;
    let claimAtWake = false;
    const claimFirst = this.#claimFirst;
    this.#claimFirst = false;
    try {
      // Woken by a trigger, a finished run or another instance: the run that caused it is most
      // likely claimable already, so claim it before the (often empty) search for due jobs.
      if (claimFirst) await this.#claimNow();
      const now = this.ctx.clock.now();
      const horizon = new Date(now.getTime() + this.#lead());
      // Claim while the rest of a burst is still being fired, so the first fired slots start
      // without waiting for the last ones.
      const fired = await this.engine.fireDue(now, {
        horizon,
        onFired: () => this.#claimNow().catch((error) => this.ctx.reportError('claim', error)),
      });
      this.#firedThrough = horizon.getTime();
      const firedAt = this.ctx.clock.now().getTime();
      if (fired.length > 0) this.#recordFiring(firedAt - now.getTime());
      const startable = fired.some((run) => run.status === 'pending' && run.runAt.getTime() <= firedAt);
      // Runs fired ahead of their slot cannot be claimed yet; a claim now would find nothing, and,
      // still in flight when the slot comes, delay the claim that would.
      const firedAheadOnly = fired.length > 0 && !startable;
      let recovered = 0;
      const takeoverAt = this.engine.recovery.nextTakeoverAt();
      if (
        now.getTime() - this.#lastRecovery >= this.ctx.leaseMs / 2 ||
        (takeoverAt !== null && now.getTime() >= takeoverAt)
      ) {
        this.#lastRecovery = now.getTime();
        recovered = (await this.engine.recovery.recover(now)).length;
      }
      if ((!claimFirst && !firedAheadOnly) || startable || recovered > 0 || this.#claiming)
        await this.#claimNow();
      // From the last claim's reading when it is older than the tick's: a run that came due while
      // that claim was in flight was not taken by it, and is due now rather than after `now`. (Not
      // with every slot busy: no claim is sent then, and one comes when a run ends.)
      const claimedThrough = this.engine.claimedThrough;
      const from =
        this.engine.room() > 0 && Number.isFinite(claimedThrough)
          ? Math.min(now.getTime(), claimedThrough)
          : now.getTime();
      const wakeAt = await this.ctx.store.nextWakeAt({ now: new Date(from) });
      const current = this.ctx.clock.now().getTime();
      if (wakeAt) {
        // An instant no later than what was fired is a pending run's (or a slot kept for its time,
        // see Engine#mayFireAhead): wake at it, and claim first. A later one is a slot to fire ahead.
        const atSlot = wakeAt.getTime() <= this.#firedThrough;
        const wakeDelay = Math.max(0, wakeAt.getTime() - (atSlot ? 0 : this.#lead()) - current);
        if (wakeDelay < delay) {
          delay = wakeDelay;
          claimAtWake = atSlot;
        }
      }
      // A watched lease that may be taken over before the next poll: look again right then. (One
      // already due was just tried; it is looked at again at the next poll, not in a busy loop.)
      const nextTakeover = this.engine.recovery.nextTakeoverAt();
      if (nextTakeover !== null && nextTakeover > current && nextTakeover - current < delay) {
        delay = nextTakeover - current;
        claimAtWake = false;
      }
      this.lastTickAt = this.ctx.clock.now();
    } catch (error) {
      this.ctx.reportError('tick', error);
    }
    if (!this.#running) return;
    if (this.#wakeRequested) {
      this.#wakeRequested = false;
      delay = 0;
    }
    if (claimAtWake) this.#claimFirst = true;
    this.#schedule(delay);
  }
}
