import { ValidationError } from './errors.js';

/** A duration: milliseconds, or a string such as `'250ms'`, `'30s'`, `'5m'`, `'2h'`, `'3d'`, `'1w'`. */
export type Duration = number | string;

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const DURATION_PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/;

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * The largest value each duration input accepts, in ms. Beyond these a value is a mistake (a
 * unit typo such as `'4000w'`), and some would break the scheduler: Node's timers overflow past
 * about 24.8 days, and a date pushed past the year 275760 is invalid.
 */
export const DURATION_LIMITS = {
  /** Job and executor `timeout`. */
  timeout: 30 * DAY_MS,
  /** Job `jitter`. */
  jitter: DAY_MS,
  /** Job `misfireGrace`. */
  misfireGrace: 366 * DAY_MS,
  /** `retry.backoff.delay` and `max`, and any computed wait between attempts. */
  retryDelay: 30 * DAY_MS,
  /** Executor `estimatedDuration`. */
  estimatedDuration: 366 * DAY_MS,
  /** Scheduler `pollInterval`. */
  pollInterval: HOUR_MS,
  /** Scheduler `lease`. */
  lease: 30 * DAY_MS,
  /** Scheduler `staleAfter`, and `cleanupStale({ olderThan })`. */
  staleAfter: 3_660 * DAY_MS,
  /** Scheduler `retention`, and `prune({ olderThan })`. */
  retention: 3_660 * DAY_MS,
  /** `stop({ grace })`. */
  grace: DAY_MS,
  /** Any other duration (e.g. an executor parameter declared with Cronkeeper's duration schema). */
  any: 3_660 * DAY_MS,
} as const;

/** `ms` in the largest whole unit that fits, for messages: `30d`, `1h`, `1500ms`. */
export function formatDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    const size = UNIT_MS[unit] as number;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** Milliseconds in `value` without checks: NaN when it is not a duration. */
export function msOf(value: Duration): number {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value) : Number.NaN;
  const match = DURATION_PATTERN.exec(value.trim());
  return match ? Math.round(Number(match[1]) * (UNIT_MS[match[2] as string] as number)) : Number.NaN;
}

/**
 * Milliseconds in `value`, or a `ValidationError` naming `field` when it is not a finite,
 * non-negative duration, or when it exceeds `maxMs`.
 */
export function toMs(value: Duration, field = 'duration', maxMs = Number.MAX_SAFE_INTEGER): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0)
      throw ValidationError.field(field, `must be a non-negative number of milliseconds, got ${value}`);
  } else if (typeof value !== 'string' || !DURATION_PATTERN.test(value.trim())) {
    throw ValidationError.field(
      field,
      `"${String(value).slice(0, 40)}" is not a duration; use milliseconds or a string like '30s', '5m', '3d'`,
    );
  }
  const ms = msOf(value);
  if (ms > maxMs) throw ValidationError.field(field, `must be at most ${formatDuration(maxMs)}`);
  // -0 as 0: the databases store it as 0, so every store reads the setting back the same.
  return ms === 0 ? 0 : ms;
}
