/**
 * Cron expressions, evaluated on the wall clock.
 *
 * Times here are "floating": a wall-clock date and time encoded as the epoch ms of the same fields
 * in UTC, with no zone attached. timezone.ts maps them to instants; keeping the two apart is what
 * lets the DST rule be stated once, for every kind of schedule.
 */
import { ValidationError } from './errors.js';

/** A cron expression parsed into the set of wall-clock times it names. */
export interface CronPattern {
  /** The first matching wall-clock time at or after `fromWallMs` (whole seconds), or null past year 275760. */
  next(fromWallMs: number): number | null;
}

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const SECOND: FieldSpec = { name: 'second', min: 0, max: 59 };
const MINUTE: FieldSpec = { name: 'minute', min: 0, max: 59 };
const HOUR: FieldSpec = { name: 'hour', min: 0, max: 23 };
const DAY_OF_MONTH: FieldSpec = { name: 'day of month', min: 1, max: 31 };
const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH: FieldSpec = { name: 'month', min: 1, max: 12, names: MONTH_NAMES };
const WEEKDAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
// 7 is Sunday as well as 0, as in every cron.
const DAY_OF_WEEK: FieldSpec = { name: 'day of week', min: 0, max: 7, names: WEEKDAY_NAMES };
const MONTH_LABELS =
  'January February March April May June July August September October November December'.split(' ');

/** A Map: a schedule such as "constructor" must not find Object's own keys. */
const MACROS = new Map<string, string>([
  ['@yearly', '0 0 0 1 1 *'],
  ['@annually', '0 0 0 1 1 *'],
  ['@monthly', '0 0 0 1 * *'],
  ['@weekly', '0 0 0 * * 0'],
  ['@daily', '0 0 0 * * *'],
  ['@midnight', '0 0 0 * * *'],
  ['@hourly', '0 0 * * * *'],
  ['@minutely', '0 * * * * *'],
  ['@secondly', '* * * * * *'],
  ['@weekdays', '0 0 0 * * 1-5'],
  ['@weekends', '0 0 0 * * 0,6'],
]);

/** The cron fields a macro such as `@daily` stands for; any other expression unchanged. */
export function expandMacro(expression: string): string {
  return MACROS.get(expression.toLowerCase()) ?? expression;
}

class CronSyntaxError extends Error {}

function fail(spec: FieldSpec, message: string): never {
  throw new CronSyntaxError(`${spec.name} ${message}`);
}

function parseValue(text: string, spec: FieldSpec): number {
  let value: number;
  if (/^\d{1,4}$/.test(text)) value = Number(text);
  else if (text.toUpperCase() === 'H') {
    fail(
      spec,
      '"H" (a hashed value) is not supported: pick the value, so every instance computes the same times',
    );
  } else {
    const index = spec.names?.indexOf(text.toLowerCase()) ?? -1;
    if (index < 0) fail(spec, `"${text}" is not a number${spec.names ? ' or a name' : ''}`);
    value = index + (spec === MONTH ? 1 : 0);
  }
  if (value < spec.min || value > spec.max) {
    fail(spec, `${text} is out of range ${spec.min}-${spec.max}`);
  }
  return value;
}

/** Values of one comma-separated item (`*`, `5`, `1-5`, `*\/15`, `10-40/5`, `5/15`); duplicates are fine. */
function expandItem(item: string, spec: FieldSpec, into: Set<number>): void {
  if (item === '') fail(spec, 'has an empty item in its list');
  // Caught on the whole item: split at "-" or "/", "L-3" would be reported as an unsupported "L".
  if (spec === DAY_OF_MONTH && /W/i.test(item))
    fail(spec, `"${item}" is not supported: "W" (the nearest weekday) is not; list the days instead`);
  if (spec === DAY_OF_MONTH && /L/i.test(item))
    fail(
      spec,
      `"${item}" is not supported: "L" (the last day of the month) stands alone in a list item, without a range, step or offset`,
    );
  const [range, stepText, extra] = item.split('/');
  if (extra !== undefined || range === undefined || range === '') fail(spec, `"${item}" is not a valid item`);
  let step = 1;
  if (stepText !== undefined) {
    if (!/^\d{1,4}$/.test(stepText) || Number(stepText) === 0) {
      fail(spec, `step "${stepText}" in "${item}" must be a whole number of at least 1`);
    }
    step = Number(stepText);
  }
  let low: number;
  let high: number;
  if (range === '*') {
    low = spec.min;
    high = spec.max;
  } else {
    const bounds = range.split('-');
    if (bounds.length > 2 || bounds.some((bound) => bound === ''))
      fail(spec, `"${item}" is not a valid range`);
    low = parseValue(bounds[0] as string, spec);
    // `a/n` runs from a to the end of the field, as cron-parser and croner read it.
    high = bounds.length === 2 ? parseValue(bounds[1] as string, spec) : stepText ? spec.max : low;
    // A weekday range may end on Sunday written 0 (FRI-SUN).
    if (spec === DAY_OF_WEEK && bounds.length === 2 && high === 0 && low > 0) high = 7;
    if (high < low) {
      fail(
        spec,
        `range ${range} runs backwards; write it as two ranges, e.g. ${low}-${spec.max},${spec.min}-${high}`,
      );
    }
  }
  for (let value = low; value <= high; value += step) into.add(value);
}

/** For each value v, the least allowed value >= v, or -1 (one slot past the maximum, for carries). */
function successors(values: Set<number>, spec: FieldSpec): Int16Array {
  const table = new Int16Array(spec.max + 2).fill(-1);
  let next = -1;
  for (let value = spec.max; value >= spec.min; value--) {
    if (values.has(value)) next = value;
    table[value] = next;
  }
  return table;
}

function parseSimpleField(text: string, spec: FieldSpec): Int16Array {
  // As in every cron that has it, "?" stands for "any" in a day field only (see the day parsers).
  if (text === '?') fail(spec, '"?" is only for the day-of-month and day-of-week fields; use "*"');
  const values = new Set<number>();
  for (const item of text.split(',')) expandItem(item, spec, values);
  return successors(values, spec);
}

/** The day-of-month field: values 1-31 as bits, plus `L` (the last day of the month). */
interface DaysOfMonth {
  any: boolean;
  mask: number;
  last: boolean;
}

function parseDaysOfMonth(text: string): DaysOfMonth {
  const result: DaysOfMonth = { any: text === '*' || text === '?', mask: 0, last: false };
  const values = new Set<number>();
  if (result.any) expandItem('*', DAY_OF_MONTH, values);
  else {
    for (const item of text.split(',')) {
      if (item.toUpperCase() === 'L') result.last = true;
      else expandItem(item, DAY_OF_MONTH, values);
    }
  }
  for (const value of values) result.mask |= 1 << value;
  return result;
}

/** The day-of-week field: plain weekdays as bits, `5L` (last Friday), `MON#2` (second Monday). */
interface DaysOfWeek {
  any: boolean;
  mask: number;
  lastMask: number;
  /** nth[k] holds the weekdays whose k-th occurrence in the month is named (k = 1..5). */
  nth: number[];
}

function parseDaysOfWeek(text: string): DaysOfWeek {
  const result: DaysOfWeek = {
    any: text === '*' || text === '?',
    mask: 0,
    lastMask: 0,
    nth: [0, 0, 0, 0, 0, 0],
  };
  const values = new Set<number>();
  if (result.any) expandItem('*', DAY_OF_WEEK, values);
  else {
    for (const item of text.split(',')) {
      const nth = /^(\w+)#(\d+)$/.exec(item);
      const last = /^(\w+)L$/i.exec(item);
      if (nth) {
        const weekday = parseValue(nth[1] as string, DAY_OF_WEEK) % 7;
        const k = Number(nth[2]);
        if (k < 1 || k > 5) fail(DAY_OF_WEEK, `"${item}": the occurrence after # must be 1-5`);
        result.nth[k] = (result.nth[k] as number) | (1 << weekday);
      } else if (last) {
        result.lastMask |= 1 << (parseValue(last[1] as string, DAY_OF_WEEK) % 7);
      } else if (item.toUpperCase() === 'L') {
        fail(DAY_OF_WEEK, '"L" needs a weekday before it, e.g. 5L for the last Friday');
      } else expandItem(item, DAY_OF_WEEK, values);
    }
  }
  for (const value of values) result.mask |= 1 << (value % 7);
  return result;
}

function daysInMonth(year: number, month: number): number {
  return new Date(floating(year, month + 1, 0, 0, 0, 0)).getUTCDate();
}

/** Epoch ms of a floating date; month is 1-12 and may overflow, as with Date.UTC. */
function floating(year: number, month: number, day: number, hour: number, minute: number, second: number) {
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not read years 0-99 as 1900-1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return date.getTime();
}

class CompiledCron implements CronPattern {
  #dayCache = { key: Number.NaN, mask: 0 };

  constructor(
    private readonly seconds: Int16Array,
    private readonly minutes: Int16Array,
    private readonly hours: Int16Array,
    private readonly months: Int16Array,
    private readonly dom: DaysOfMonth,
    private readonly dow: DaysOfWeek,
  ) {}

  /**
   * Days of `month` that match, as bits 1-31. Day of month and day of week combine as in the
   * crontab manual: when both are restricted (anything but `*` or `?`), a day matching either runs.
   */
  #days(year: number, month: number): number {
    const key = year * 16 + month;
    if (this.#dayCache.key === key) return this.#dayCache.mask;
    const length = daysInMonth(year, month);
    let byDate = this.dom.mask & (2 ** (length + 1) - 2);
    if (this.dom.last) byDate |= 1 << length;
    let byWeekday = 0;
    let weekday = new Date(floating(year, month, 1, 0, 0, 0)).getUTCDay();
    for (let day = 1; day <= length; day++) {
      const bit = 1 << weekday;
      if (
        this.dow.mask & bit ||
        (this.dow.nth[Math.ceil(day / 7)] as number) & bit ||
        (this.dow.lastMask & bit && day + 7 > length)
      ) {
        byWeekday |= 1 << day;
      }
      weekday = (weekday + 1) % 7;
    }
    let mask: number;
    if (this.dom.any) mask = byWeekday;
    else if (this.dow.any) mask = byDate;
    else mask = byDate | byWeekday;
    this.#dayCache = { key, mask };
    return mask;
  }

  next(fromWallMs: number): number | null {
    const start = new Date(Math.ceil(fromWallMs / 1000) * 1000);
    if (Number.isNaN(start.getTime())) return null;
    let year = start.getUTCFullYear();
    let month = start.getUTCMonth() + 1;
    let day = start.getUTCDate();
    let hour = start.getUTCHours();
    let minute = start.getUTCMinutes();
    let second = start.getUTCSeconds();
    // The Gregorian calendar, weekdays included, repeats every 400 years: a pattern with no match in
    // that span has none at all (parseCron refuses those).
    const lastYear = year + 401;
    while (year <= lastYear) {
      const nextMonth = this.months[month] as number;
      if (nextMonth < 0) {
        year++;
        month = 1;
        day = 1;
        hour = minute = second = 0;
        continue;
      }
      if (nextMonth !== month) {
        month = nextMonth;
        day = 1;
        hour = minute = second = 0;
      }
      const days = day > 31 ? 0 : this.#days(year, month) & (~0 << day);
      if (days === 0) {
        month++;
        day = 1;
        hour = minute = second = 0;
        if (month > 12) {
          year++;
          month = 1;
        }
        continue;
      }
      const nextDay = 31 - Math.clz32(days & -days);
      if (nextDay !== day) {
        day = nextDay;
        hour = minute = second = 0;
      }
      const nextHour = this.hours[hour] as number;
      if (nextHour < 0) {
        day++;
        hour = minute = second = 0;
        continue;
      }
      if (nextHour !== hour) {
        hour = nextHour;
        minute = second = 0;
      }
      const nextMinute = this.minutes[minute] as number;
      if (nextMinute < 0) {
        hour++;
        minute = second = 0;
        continue;
      }
      if (nextMinute !== minute) {
        minute = nextMinute;
        second = 0;
      }
      const nextSecond = this.seconds[second] as number;
      if (nextSecond < 0) {
        minute++;
        second = 0;
        continue;
      }
      const wall = floating(year, month, day, hour, minute, nextSecond);
      return Number.isNaN(wall) ? null : wall;
    }
    return null;
  }
}

/** Why a pattern that parsed never matches, in the words of its fields. */
function neverMatches(months: Int16Array, dom: DaysOfMonth, dow: DaysOfWeek): string {
  if (!dom.any && !dom.last && dow.any) {
    const named = MONTH_LABELS.filter((_, index) => months[index + 1] === index + 1);
    const days: number[] = [];
    for (let value = 1; value <= 31; value++) if (dom.mask & (1 << value)) days.push(value);
    return `day of month ${days.join(',')} never occurs in ${named.join(', ')}`;
  }
  return 'never matches any date';
}

/**
 * Parse a 5-field (minute first) or 6-field (second first) cron expression, or a macro such as
 * `@daily`. Lists may repeat values (`0,7`, `*\/15,30`). Throws `ValidationError` on `field` for a
 * malformed expression or one that never fires (`0 0 30 2 *`).
 */
export function parseCron(expression: string, field: string): CronPattern {
  const text = expandMacro(expression);
  if (text.startsWith('@')) {
    throw ValidationError.field(
      field,
      `"${expression}" is not a known macro; use one of ${[...MACROS.keys()].join(', ')}`,
    );
  }
  const parts = text.split(/\s+/).filter((part) => part.length > 0);
  if (parts.length !== 5 && parts.length !== 6) {
    throw ValidationError.field(
      field,
      `"${expression}" has ${parts.length} ${parts.length === 1 ? 'field' : 'fields'}; a cron expression has 5 (minute first) or 6 (seconds first), or use an alias such as "daily" or "every_5_minutes"`,
    );
  }
  const fields = parts.length === 5 ? ['0', ...parts] : parts;
  const [second, minute, hour, dayOfMonth, month, dayOfWeek] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  let pattern: CompiledCron;
  let months: Int16Array;
  let dom: DaysOfMonth;
  let dow: DaysOfWeek;
  try {
    months = parseSimpleField(month, MONTH);
    dom = parseDaysOfMonth(dayOfMonth);
    dow = parseDaysOfWeek(dayOfWeek);
    pattern = new CompiledCron(
      parseSimpleField(second, SECOND),
      parseSimpleField(minute, MINUTE),
      parseSimpleField(hour, HOUR),
      months,
      dom,
      dow,
    );
  } catch (error) {
    if (!(error instanceof CronSyntaxError)) throw error;
    throw ValidationError.field(field, `"${expression}" is not a valid cron expression: ${error.message}`);
  }
  if (pattern.next(Date.UTC(2000, 0, 1)) === null) {
    throw ValidationError.field(field, `"${expression}" never fires: ${neverMatches(months, dom, dow)}`);
  }
  return pattern;
}
