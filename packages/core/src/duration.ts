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

/**
 * Milliseconds in `value`, or a `ValidationError` naming `field` when it is not a finite,
 * non-negative duration.
 */
export function toMs(value: Duration, field = 'duration'): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return Math.round(value);
    throw ValidationError.field(field, `must be a non-negative number of milliseconds, got ${value}`);
  }
  const match = DURATION_PATTERN.exec(value.trim());
  if (!match) {
    throw ValidationError.field(
      field,
      `"${value.slice(0, 40)}" is not a duration; use milliseconds or a string like '30s', '5m', '3d'`,
    );
  }
  return Math.round(Number(match[1]) * (UNIT_MS[match[2] as string] as number));
}
