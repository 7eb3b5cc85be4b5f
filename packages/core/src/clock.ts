import { type Duration, toMs } from './duration.js';

/** The single source of time for a scheduler and its store calls. */
export interface Clock {
  /** The current instant. */
  now(): Date;
}

/** The real clock. */
export const systemClock: Clock = { now: () => new Date() };

/** A clock that only moves when told to: for deterministic tests of schedules. */
export interface ManualClock extends Clock {
  /** Move forward by a duration (`'1h'`, `90_000`). */
  advance(by: Duration): Date;
  /** Jump to an instant (forward or back). */
  set(to: Date | string): Date;
}

/** A {@link ManualClock} starting at `start` (an ISO string or Date). */
export function manualClock(start: Date | string = new Date()): ManualClock {
  let current = new Date(start).getTime();
  if (Number.isNaN(current)) throw new TypeError(`manualClock: "${String(start)}" is not a valid date`);
  return {
    now: () => new Date(current),
    advance(by) {
      current += toMs(by, 'advance');
      return new Date(current);
    },
    set(to) {
      const next = new Date(to).getTime();
      if (Number.isNaN(next)) throw new TypeError(`manualClock.set: "${String(to)}" is not a valid date`);
      current = next;
      return new Date(current);
    },
  };
}
