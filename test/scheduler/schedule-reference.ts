/**
 * A reference evaluator for schedules, written apart from the production code and sharing none of
 * it: what a schedule names is given as explicit value sets (see schedule-differential.test.ts,
 * which also renders them as text for `parseSchedule`), the zone's clock is read from `Intl`, and the
 * documented DST rule is applied literally:
 *   - a wall time fires once, at the first instant the clock shows it;
 *   - a wall time the clock never shows (skipped by a spring-forward) fires once, at the first
 *     instant after the gap.
 * It walks the clock forward instant by instant (in linear stretches) rather than computing from
 * wall times, so that it does not share the production code's approach either.
 */

const SECOND = 1000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** How often the clock is read when looking for jumps; the tz database has no two jumps this close. */
const READ_STEP = 3 * HOUR;
/** How far back the clock is replayed to know which wall times it has shown already. */
const REPLAY = 2 * DAY;

/** The days a schedule names, given per calendar date. */
export interface DayRule {
  /** true when the field is `*` or `?` (unrestricted). */
  any: boolean;
  /** Does the field name this date? month 1-12, weekday 0 = Sunday, length = days in the month. */
  matches(day: number, weekday: number, length: number): boolean;
}

/** What a schedule names on the wall clock. */
export type WallSpec =
  | {
      kind: 'cron';
      seconds: ReadonlySet<number>;
      minutes: ReadonlySet<number>;
      hours: ReadonlySet<number>;
      months: ReadonlySet<number>;
      dayOfMonth: DayRule;
      dayOfWeek: DayRule;
    }
  /** Every `periodMs` of wall-clock time, counted from 1970-01-01 00:00 on the wall clock. */
  | { kind: 'grid'; periodMs: number };

const readers = new Map<string, Intl.DateTimeFormat>();
const readings = new Map<string, Map<number, number>>();

/** The wall clock of `zone` at a whole-second instant, as ms of the same fields read as UTC. */
export function clockAt(instant: number, zone: string): number {
  let known = readings.get(zone);
  if (!known) {
    known = new Map();
    readings.set(zone, known);
  }
  let wall = known.get(instant);
  if (wall === undefined) {
    wall = readClock(instant, zone);
    known.set(instant, wall);
  }
  return wall;
}

function readClock(instant: number, zone: string): number {
  let reader = readers.get(zone);
  if (!reader) {
    reader = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hour12: false,
    });
    readers.set(zone, reader);
  }
  const part = (parts: Intl.DateTimeFormatPart[], type: string) =>
    Number(parts.find((p) => p.type === type)?.value);
  const parts = reader.formatToParts(new Date(instant));
  const hour = part(parts, 'hour') % 24; // some runtimes print midnight as 24 with hour12: false
  return Date.UTC(
    part(parts, 'year'),
    part(parts, 'month') - 1,
    part(parts, 'day'),
    hour,
    part(parts, 'minute'),
    part(parts, 'second'),
  );
}

/** A stretch of time over which the clock advances one second per second. */
interface Stretch {
  /** First instant (whole second) and the wall time shown then. */
  from: number;
  wall: number;
  /** Instants in the stretch: [from, from + length). */
  length: number;
}

/** The clock of `zone` over [start, end), cut into stretches at every jump. */
export function replay(zone: string, start: number, end: number): Stretch[] {
  const stretches: Stretch[] = [];
  let from = start;
  let wall = clockAt(start, zone);
  let at = start;
  while (at < end) {
    // Reads on a fixed grid, so that replays from different starts reuse them.
    const probe = (Math.floor(at / READ_STEP) + 1) * READ_STEP;
    const expected = wall + (probe - from);
    if (clockAt(probe, zone) === expected) {
      at = probe;
      continue;
    }
    // The clock jumped in (at, probe]: find the first second that does not follow on.
    let good = at;
    let bad = probe;
    while (bad - good > SECOND) {
      const middle = good + Math.floor((bad - good) / 2 / SECOND) * SECOND;
      if (clockAt(middle, zone) === wall + (middle - from)) good = middle;
      else bad = middle;
    }
    stretches.push({ from, wall, length: bad - from });
    from = bad;
    wall = clockAt(bad, zone);
    at = bad;
  }
  stretches.push({ from, wall, length: at - from });
  return stretches;
}

/** Days in a month of the proleptic Gregorian calendar, by counting. */
function monthLength(year: number, month: number): number {
  for (let day = 31; day >= 28; day--) {
    if (new Date(Date.UTC(year, month - 1, day)).getUTCMonth() === month - 1) return day;
  }
  throw new Error('unreachable');
}

function dayNamed(spec: Extract<WallSpec, { kind: 'cron' }>, year: number, month: number, day: number) {
  if (!spec.months.has(month)) return false;
  const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  const length = monthLength(year, month);
  const byDate = spec.dayOfMonth.matches(day, weekday, length);
  const byWeekday = spec.dayOfWeek.matches(day, weekday, length);
  if (spec.dayOfMonth.any && spec.dayOfWeek.any) return true;
  if (spec.dayOfMonth.any) return byWeekday;
  if (spec.dayOfWeek.any) return byDate;
  return byDate || byWeekday;
}

const sorted = (values: ReadonlySet<number>) => [...values].sort((a, b) => a - b);

/** The first wall time in [low, high] the spec names, by trying dates, then hours, minutes, seconds. */
export function firstNamed(spec: WallSpec, low: number, high: number): number | null {
  if (spec.kind === 'grid') {
    const first = Math.ceil(low / spec.periodMs) * spec.periodMs;
    return first <= high ? first : null;
  }
  const hours = sorted(spec.hours);
  const minutes = sorted(spec.minutes);
  const seconds = sorted(spec.seconds);
  const firstDay = Math.floor(low / DAY) * DAY;
  for (let date = firstDay; date <= high; date += DAY) {
    const calendar = new Date(date);
    const year = calendar.getUTCFullYear();
    const month = calendar.getUTCMonth() + 1;
    if (!dayNamed(spec, year, month, calendar.getUTCDate())) continue;
    for (const hour of hours) {
      if (date + (hour + 1) * HOUR <= low) continue;
      for (const minute of minutes) {
        if (date + hour * HOUR + (minute + 1) * 60_000 <= low) continue;
        for (const second of seconds) {
          const wall = date + hour * HOUR + minute * 60_000 + second * SECOND;
          if (wall > high) return null;
          if (wall >= low) return wall;
        }
      }
    }
  }
  return null;
}

/** Is `wall` shown by any of the stretches? */
function shown(stretches: Stretch[], wall: number): boolean {
  return stretches.some((s) => wall >= s.wall && wall < s.wall + s.length);
}

/**
 * The first firing strictly after `after`, or null if none within `horizonMs`. Walks the clock from
 * `after`: in each stretch, the named wall times the clock shows for the first time fire when shown;
 * at each forward jump, named wall times skipped (never shown) fire once, as the clock lands.
 */
export function referenceNext(spec: WallSpec, zone: string, after: number, horizonMs: number): number | null {
  const firstInstant = Math.floor(after / SECOND) * SECOND + SECOND;
  const start = firstInstant - REPLAY;
  // Replay ever further ahead, so that a dense schedule reads only a little of the clock.
  for (let window = DAY; ; window *= 4) {
    const end = firstInstant + Math.min(window, horizonMs);
    const stretches = replay(zone, start, end);
    for (let index = 0; index < stretches.length; index++) {
      const stretch = stretches[index] as Stretch;
      const earlier = stretches.slice(0, index);
      const previous = earlier[earlier.length - 1];
      // A forward jump as this stretch starts: wall times in between were never shown.
      if (previous && stretch.from > after) {
        const lastShown = previous.wall + previous.length - SECOND;
        for (let wall = lastShown + SECOND; wall < stretch.wall; ) {
          const named = firstNamed(spec, wall, stretch.wall - SECOND);
          if (named === null) break;
          if (!shown(stretches, named)) return stretch.from;
          wall = named + SECOND;
        }
      }
      // Instants of this stretch after `after`, and the wall times they show.
      const offset = Math.max(0, firstInstant - stretch.from);
      if (offset >= stretch.length) continue;
      let wall = stretch.wall + offset;
      const lastWall = stretch.wall + stretch.length - SECOND;
      while (wall <= lastWall) {
        const named = firstNamed(spec, wall, lastWall);
        if (named === null) break;
        // Shown before this stretch (the second pass of a fall-back): it has had its firing.
        if (!shown(earlier, named)) return stretch.from + (named - stretch.wall);
        wall = named + SECOND;
      }
    }
    if (window >= horizonMs) return null;
  }
}

/** Does the spec name any date at all? The calendar repeats every 400 years, so one cycle tells. */
export function namesAnyDate(spec: WallSpec): boolean {
  if (spec.kind === 'grid') return true;
  for (let date = Date.UTC(2000, 0, 1); date < Date.UTC(2400, 0, 1); date += DAY) {
    const calendar = new Date(date);
    if (dayNamed(spec, calendar.getUTCFullYear(), calendar.getUTCMonth() + 1, calendar.getUTCDate()))
      return true;
  }
  return false;
}
