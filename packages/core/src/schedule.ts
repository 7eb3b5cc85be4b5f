import { CronExpressionParser } from 'cron-parser';
import cronstrue from 'cronstrue/i18n.js';
import { ValidationError } from './errors.js';
import { isValidTimezone, toWallMs, wallToInstants } from './timezone.js';

/** A parsed schedule: when it fires next, and what it says in words. */
export interface Schedule {
  /** The expression as evaluated: a cron expression, or `every <n>ms` for fixed intervals. */
  readonly expression: string;
  /** IANA zone the wall-clock times are in. */
  readonly timezone: string;
  /** The first firing strictly after `after`, or null if there is none. */
  next(after: Date): Date | null;
  /** The schedule in words, e.g. "At 03:00" (`en`) or "À 03:00" (`fr`). Unknown locales fall back to English. */
  describe(locale?: string): string;
}

/** Options of {@link parseSchedule}. */
export interface ParseScheduleOptions {
  /** IANA zone. @default 'UTC' */
  timezone?: string;
  /** Field name used in error messages. @default 'schedule' */
  field?: string;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const MAX_EXPRESSION_LENGTH = 200;

/** Seed 002's aliases, as cron. */
const ALIASES: Record<string, string> = {
  every_minute: '* * * * *',
  hourly: '0 * * * *',
  daily: '0 0 * * *',
  weekly: '0 0 * * 1',
  monthly: '0 0 1 * *',
  yearly: '0 0 1 1 *',
};

const EVERY_N = /^every_(\d{1,5})_(minutes|hours)$/;

type Normalized =
  | { kind: 'cron'; cron: string }
  | { kind: 'interval'; periodMs: number; unit: 'm' | 'h'; n: number };

function normalize(raw: string, field: string): Normalized {
  const trimmed = raw.trim();
  const expression = trimmed.toLowerCase().startsWith('cron:') ? trimmed.slice(5).trim() : trimmed;
  if (expression.length === 0)
    throw ValidationError.field(field, 'is empty; give a cron expression or an alias');
  const alias = ALIASES[expression];
  if (alias) return { kind: 'cron', cron: alias };
  const every = EVERY_N.exec(expression);
  if (every) {
    const n = Number(every[1]);
    const unit = every[2] === 'minutes' ? 'm' : 'h';
    if (n < 1) throw ValidationError.field(field, `"${expression}": the interval must be at least 1`);
    // Divisors of the hour (or day) keep the familiar wall-clock alignment of `*/n`.
    if (unit === 'm' && n < 60 && 60 % n === 0) return { kind: 'cron', cron: `*/${n} * * * *` };
    if (unit === 'h' && n < 24 && 24 % n === 0) return { kind: 'cron', cron: `0 */${n} * * *` };
    if (unit === 'h' && n === 24) return { kind: 'cron', cron: '0 0 * * *' };
    return { kind: 'interval', periodMs: n * (unit === 'm' ? MINUTE : HOUR), unit, n };
  }
  if (!expression.startsWith('@')) {
    const fields = expression.split(/\s+/).length;
    if (fields !== 5 && fields !== 6) {
      throw ValidationError.field(
        field,
        `"${expression}" has ${fields} fields; a cron expression has 5 (minute first) or 6 (seconds first), or use an alias such as "daily" or "every_5_minutes"`,
      );
    }
  }
  return { kind: 'cron', cron: expression };
}

/**
 * Parse a schedule: 5- or 6-field cron (with `L`, `#`, ranges, steps, names), `@yearly`…`@hourly`,
 * seed 002's aliases (`every_5_minutes`, `hourly`, `daily`, `weekly`, `every_N_minutes`,
 * `every_N_hours`) and the `cron:` prefix. Throws `ValidationError` naming the field for an invalid
 * expression or zone, so bad input fails when written, never later in the loop.
 */
export function parseSchedule(expression: string, options: ParseScheduleOptions = {}): Schedule {
  const field = options.field ?? 'schedule';
  const timezone = options.timezone ?? 'UTC';
  if (typeof expression !== 'string') throw ValidationError.field(field, 'must be a string');
  if (expression.length > MAX_EXPRESSION_LENGTH) {
    throw ValidationError.field(field, `is longer than ${MAX_EXPRESSION_LENGTH} characters`);
  }
  if (!isValidTimezone(timezone)) {
    throw ValidationError.field(
      options.field === undefined ? 'timezone' : `${field}.timezone`,
      `"${timezone.slice(0, 64)}" is not an IANA time zone (e.g. "UTC", "Europe/Paris")`,
    );
  }
  const normalized = normalize(expression, field);
  if (normalized.kind === 'interval') return intervalSchedule(normalized, timezone);
  return cronSchedule(normalized.cron, timezone, field);
}

function intervalSchedule(
  spec: { periodMs: number; unit: 'm' | 'h'; n: number },
  timezone: string,
): Schedule {
  return {
    expression: `every ${spec.periodMs}ms`,
    timezone,
    // Anchored at the epoch so every instance computes the same slots without shared state.
    next: (after) => new Date((Math.floor(after.getTime() / spec.periodMs) + 1) * spec.periodMs),
    describe: (locale) => {
      const fr = locale?.toLowerCase().startsWith('fr');
      if (spec.unit === 'm') return fr ? `Toutes les ${spec.n} minutes` : `Every ${spec.n} minutes`;
      return fr ? `Toutes les ${spec.n} heures` : `Every ${spec.n} hours`;
    },
  };
}

// Guards against expressions that never match (e.g. 30 February) looping forever.
const MAX_CANDIDATES = 1000;

function cronSchedule(cron: string, timezone: string, field: string): Schedule {
  let parsed: ReturnType<typeof CronExpressionParser.parse>;
  try {
    parsed = CronExpressionParser.parse(cron, { currentDate: new Date(0), tz: 'UTC' });
    parsed.next();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw ValidationError.field(field, `"${cron}" is not a valid cron expression: ${reason}`);
  }
  return {
    expression: cron,
    timezone,
    next(after) {
      const afterMs = after.getTime();
      // Work on the wall clock, then map back: see timezone.ts for the DST rules this gives.
      let wall = toWallMs(afterMs, timezone);
      for (let i = 0; i < MAX_CANDIDATES; i++) {
        parsed.reset(new Date(wall));
        let candidate: number;
        try {
          candidate = parsed.next().getTime();
        } catch {
          return null;
        }
        const { instants, gapEnd } = wallToInstants(candidate, timezone);
        // A repeated wall time counts at its first occurrence only; a skipped one at the gap's end.
        const firing = instants.length > 0 ? instants[0] : gapEnd;
        if (firing !== undefined && firing !== null && firing > afterMs) return new Date(firing);
        wall = candidate;
      }
      return null;
    },
    describe(locale = 'en') {
      try {
        return cronstrue.toString(cron, { locale, use24HourTimeFormat: true, verbose: false });
      } catch {
        return cron;
      }
    },
  };
}
