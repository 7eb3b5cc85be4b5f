/**
 * Conversions between instants and wall-clock times in an IANA zone.
 *
 * Schedules are evaluated on the wall clock ("02:30 in Paris"), then mapped to instants. Doing the
 * mapping ourselves, rather than trusting a cron library's zone handling, is what lets us state the
 * DST rules exactly: a wall time skipped by a spring-forward fires once at the first instant after
 * the gap, and a wall time repeated by a fall-back fires once, at its first occurrence.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timezone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timezone, formatter);
  }
  return formatter;
}

/** True when `timezone` is an IANA zone name this runtime knows. */
export function isValidTimezone(timezone: string): boolean {
  if (timezone.length === 0 || timezone.length > 64) return false;
  try {
    formatterFor(timezone);
    return true;
  } catch {
    return false;
  }
}

/**
 * The wall-clock time of `instantMs` in `timezone`, encoded as the epoch ms of the same
 * year/month/day/hour/minute/second in UTC (a "floating" time).
 */
export function toWallMs(instantMs: number, timezone: string): number {
  if (timezone === 'UTC') return instantMs;
  const parts = formatterFor(timezone).formatToParts(new Date(instantMs));
  const field = (type: string) => Number(parts.find((part) => part.type === type)?.value);
  const wall = Date.UTC(
    field('year'),
    field('month') - 1,
    field('day'),
    field('hour'),
    field('minute'),
    field('second'),
  );
  return wall + (((instantMs % 1000) + 1000) % 1000);
}

/** Offset of `timezone` from UTC at `instantMs`, in ms (positive east of Greenwich). */
function offsetAt(instantMs: number, timezone: string): number {
  return toWallMs(instantMs, timezone) - instantMs;
}

const TWELVE_HOURS = 12 * 3_600_000;

/**
 * The instants at which the wall time `wallMs` occurs in `timezone`, earliest first: one normally,
 * two in a fall-back overlap, none in a spring-forward gap (then `gapEnd` is the first instant after
 * the gap).
 */
export function wallToInstants(
  wallMs: number,
  timezone: string,
): { instants: number[]; gapEnd: number | null } {
  if (timezone === 'UTC') return { instants: [wallMs], gapEnd: null };
  const offsetBefore = offsetAt(wallMs - TWELVE_HOURS, timezone);
  const offsetAfter = offsetAt(wallMs + TWELVE_HOURS, timezone);
  const candidates = [...new Set([wallMs - offsetBefore, wallMs - offsetAfter])].sort((a, b) => a - b);
  const instants = candidates.filter((instant) => toWallMs(instant, timezone) === wallMs);
  if (instants.length > 0) return { instants, gapEnd: null };
  // In a gap: the zone's offset jumps forward somewhere between these two instants.
  let low = wallMs - offsetAfter;
  let high = wallMs - offsetBefore;
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (offsetAt(mid, timezone) === offsetAfter) high = mid;
    else low = mid;
  }
  return { instants: [], gapEnd: high };
}
