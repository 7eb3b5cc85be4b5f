import cronstrueImport from 'cronstrue/i18n.js';
import { expandMacro, parseCron } from './cron.js';
import { ValidationError } from './errors.js';
import { firingInstant, isValidTimezone, wallHighWater } from './timezone.js';

type Cronstrue = typeof cronstrueImport;
/**
 * The description library with its locales. It is a CommonJS module whose default export the
 * loaders disagree on: Node's ESM loader and a CommonJS build hand back `{ toString, default }`,
 * with the locales only on `default`, while bundlers and vitest hand back the library itself.
 * Read without this, every description fell back to the raw expression in the published package.
 */
const cronstrue: Cronstrue =
  'locales' in cronstrueImport
    ? cronstrueImport
    : ((cronstrueImport as unknown as { default?: Cronstrue }).default ?? cronstrueImport);

/** A parsed schedule: when it fires next, and what it says in words. */
export interface Schedule {
  /** The expression as evaluated: a cron expression, or `every <n>ms` for interval aliases. */
  readonly expression: string;
  /** IANA zone the wall-clock times are in. */
  readonly timezone: string;
  /**
   * The first firing strictly after `after`. Never null for a schedule that parsed (every one fires
   * again), except at the ends of the range of JavaScript dates (years -271821 and 275760).
   */
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

/** Named aliases, as cron. A Map: a schedule such as "constructor" must not find Object's own keys. */
const ALIASES = new Map<string, string>([
  ['every_minute', '* * * * *'],
  ['hourly', '0 * * * *'],
  ['daily', '0 0 * * *'],
  ['weekly', '0 0 * * 1'],
  ['monthly', '0 0 1 * *'],
  ['yearly', '0 0 1 1 *'],
]);

const EVERY_N = /^every_(\d+)_(minutes|hours)$/;
const MAX_EVERY_N = 99_999;

type Normalized =
  | { kind: 'cron'; cron: string }
  | { kind: 'interval'; periodMs: number; unit: 'm' | 'h'; n: number };

function normalize(raw: string, field: string): Normalized {
  const trimmed = raw.trim();
  const expression = trimmed.toLowerCase().startsWith('cron:') ? trimmed.slice(5).trim() : trimmed;
  if (expression.length === 0)
    throw ValidationError.field(field, 'is empty; give a cron expression or an alias');
  const alias = ALIASES.get(expression);
  if (alias) return { kind: 'cron', cron: alias };
  const every = EVERY_N.exec(expression);
  if (every) {
    const n = Number(every[1]);
    const unit = every[2] === 'minutes' ? 'm' : 'h';
    if (n < 1) throw ValidationError.field(field, `"${expression}": the interval must be at least 1`);
    // Caught here rather than left to the cron parser, which would count one field and say so.
    if (n > MAX_EVERY_N)
      throw ValidationError.field(field, `"${expression}": the interval must be at most ${MAX_EVERY_N}`);
    // Divisors of the hour (or day) read as the cron expression they are equal to.
    if (unit === 'm' && n < 60 && 60 % n === 0) return { kind: 'cron', cron: `*/${n} * * * *` };
    if (unit === 'h' && n < 24 && 24 % n === 0) return { kind: 'cron', cron: `0 */${n} * * *` };
    if (unit === 'h' && n === 24) return { kind: 'cron', cron: '0 0 * * *' };
    return { kind: 'interval', periodMs: n * (unit === 'm' ? MINUTE : HOUR), unit, n };
  }
  return { kind: 'cron', cron: expression };
}

/**
 * Parse a schedule: 5- or 6-field cron (with `L`, `#`, ranges, steps, names), `@yearly`…`@hourly`,
 * the aliases `every_minute`, `hourly`, `daily`, `weekly`, `monthly`, `yearly`, `every_N_minutes`
 * and `every_N_hours`, and the `cron:` prefix. Wall-clock times are in the zone; across DST a
 * skipped time fires at the first instant after the gap and a repeated one at its first occurrence.
 * Throws `ValidationError` naming the field for an invalid expression or zone, or one that never
 * fires, so bad input fails when written, never later in the loop.
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

/**
 * A schedule over wall-clock times (floating, see cron.ts) in `timezone`: the first wall time after
 * the latest one the zone's clock has shown, fired at the instant the clock first reaches it.
 */
function zonedSchedule(
  expression: string,
  timezone: string,
  nextWall: (fromWallMs: number) => number | null,
  describe: (locale?: string) => string,
): Schedule {
  return {
    expression,
    timezone,
    next(after) {
      const afterMs = after.getTime();
      if (Number.isNaN(afterMs)) throw ValidationError.field('after', 'is not a valid date');
      const wall = nextWall(wallHighWater(afterMs, timezone) + 1);
      if (wall === null) return null;
      const firing = new Date(firingInstant(wall, timezone));
      return Number.isNaN(firing.getTime()) ? null : firing;
    },
    describe,
  };
}

/**
 * Interval aliases are a regular grid on the zone's wall clock, counted from 1970-01-01 00:00
 * local time: every_60_minutes is hourly at :00 local, whatever the zone's offset, and an interval
 * that divides a day lands on the same local times every day.
 */
function intervalSchedule(
  spec: { periodMs: number; unit: 'm' | 'h'; n: number },
  timezone: string,
): Schedule {
  const { periodMs } = spec;
  return zonedSchedule(
    `every ${periodMs}ms`,
    timezone,
    (fromWallMs) => Math.ceil(fromWallMs / periodMs) * periodMs,
    (locale) => {
      const fr = locale?.toLowerCase().startsWith('fr');
      if (spec.unit === 'm') return fr ? `Toutes les ${spec.n} minutes` : `Every ${spec.n} minutes`;
      return fr ? `Toutes les ${spec.n} heures` : `Every ${spec.n} hours`;
    },
  );
}

/**
 * The description locale for a requested one: itself, its language (`pt-BR` is `pt_BR`, `fr-CA`
 * is `fr`), else English. An unknown locale is never passed on: the description library would
 * write a warning to the console on every call, and the locale may come from a request.
 */
function describedLocale(requested: string): string {
  const known = cronstrue.locales as Record<string, unknown>;
  const exact = requested.replace('-', '_');
  if (Object.hasOwn(known, exact)) return exact;
  const language = exact.split('_')[0]?.toLowerCase() ?? '';
  return Object.hasOwn(known, language) ? language : 'en';
}

function cronSchedule(cron: string, timezone: string, field: string): Schedule {
  const pattern = parseCron(cron, field);
  const words = expandMacro(cron).split(/\s+/).join(' ');
  return zonedSchedule(
    cron,
    timezone,
    (fromWallMs) => pattern.next(fromWallMs),
    (locale = 'en') => {
      try {
        return cronstrue.toString(words, {
          locale: describedLocale(locale),
          use24HourTimeFormat: true,
          verbose: false,
        });
      } catch {
        return cron;
      }
    },
  );
}
