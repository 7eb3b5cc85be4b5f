/**
 * Wall clocks of IANA zones, and the DST rule that maps wall-clock times to instants.
 *
 * Schedules name wall-clock times ("02:30 in Paris", as floating times: see cron.ts). A wall time
 * fires at the first instant at which the zone's clock shows it or a later time. That one rule
 * gives both halves of the documented behaviour: a time skipped by a spring-forward fires once, at
 * the first instant after the gap, and a time repeated by a fall-back fires once, at its first
 * occurrence (the clock already showed it). It holds for any offset and any jump, including
 * whole skipped days (Pacific/Apia, 2011-12-30).
 *
 * Offsets come from `Intl` (the runtime's time zone database). Each zone's offset changes are
 * found once per 64-day chunk, by probing every 12 hours and bisecting to the second; two changes
 * less than 12 hours apart would be missed, and the database has none (the closest are 4 days).
 */

const SECOND_MS = 1000;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const CHUNK_MS = 64 * DAY_MS;
const PROBE_MS = 12 * HOUR_MS;
// |offset| < 24 h in every zone (the largest ever is under 16 h), which bounds how far back a clock
// can have shown a later time, and how far from a wall time its instant can be.
const REACH_MS = DAY_MS;
const MAX_CACHED_CHUNKS = 4096;

/** One formatter per zone, by its canonical name: a few hundred at most, however zones are spelt. */
const formatters = new Map<string, Intl.DateTimeFormat>();
/**
 * The canonical zone of each spelling seen (`Intl` takes a zone name in any letter case). Bounded:
 * spellings come from requests, and a formatter kept per spelling let anyone who can preview a
 * schedule grow the process's memory without end.
 */
const canonicalZones = new Map<string, string>();
const MAX_ZONE_SPELLINGS = 1000;

/** How many formatters and spellings are cached (for the test that they stay bounded). */
export function zoneCacheSizes(): { formatters: number; spellings: number } {
  return { formatters: formatters.size, spellings: canonicalZones.size };
}

function newFormatter(timezone: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hourCycle: 'h23',
    era: 'short',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
}

/**
 * The canonical name of `timezone` (its formatter made on first sight); throws a RangeError for a
 * zone the runtime does not know.
 */
function canonicalZone(timezone: string): string {
  const known = canonicalZones.get(timezone);
  if (known !== undefined) return known;
  const formatter = newFormatter(timezone);
  const zone = formatter.resolvedOptions().timeZone;
  if (!formatters.has(zone)) formatters.set(zone, formatter);
  if (canonicalZones.size >= MAX_ZONE_SPELLINGS) canonicalZones.clear();
  canonicalZones.set(timezone, zone);
  return zone;
}

function formatterFor(timezone: string): Intl.DateTimeFormat {
  return formatters.get(canonicalZone(timezone)) as Intl.DateTimeFormat;
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

// Near the ends of the range of JavaScript dates (±8.64e15 ms) `Intl` may refuse to format: probes
// past this read the offset at this bound.
const LAST_DATE_MS = 8.64e15 - 2 * DAY_MS;

/** The zone's offset at a whole-second instant, read from `Intl`. */
function probeOffset(instantMs: number, timezone: string): number {
  if (Math.abs(instantMs) > LAST_DATE_MS) return probeOffset(Math.sign(instantMs) * LAST_DATE_MS, timezone);
  const fields: Record<string, string> = {};
  for (const part of formatterFor(timezone).formatToParts(new Date(instantMs)))
    fields[part.type] = part.value;
  const year = Number(fields.year);
  const wall = new Date(0);
  wall.setUTCFullYear(
    fields.era?.startsWith('B') ? 1 - year : year,
    Number(fields.month) - 1,
    Number(fields.day),
  );
  wall.setUTCHours(Number(fields.hour), Number(fields.minute), Number(fields.second));
  return wall.getTime() - instantMs;
}

/** A zone's offsets over (start, start + CHUNK_MS]: the offset at `start`, then each change. */
interface Chunk {
  startOffset: number;
  /** Instants at which the offset changes, ascending. */
  at: number[];
  /** The offset from the matching `at` on. */
  offsets: number[];
}

const chunks = new Map<string, Chunk>();

function chunkOf(timezone: string, index: number): Chunk {
  // By the canonical zone, so that spellings of one zone share their chunks.
  const key = `${canonicalZone(timezone)}\u0000${index}`;
  let chunk = chunks.get(key);
  if (chunk) return chunk;
  const start = index * CHUNK_MS;
  chunk = { startOffset: probeOffset(start, timezone), at: [], offsets: [] };
  let low = start;
  let lowOffset = chunk.startOffset;
  for (let probe = start + PROBE_MS; probe <= start + CHUNK_MS; probe += PROBE_MS) {
    const offset = probeOffset(probe, timezone);
    if (offset !== lowOffset) {
      // Offsets change on whole seconds: bisect to the first second with the new offset.
      let before = low;
      let after = probe;
      while (after - before > SECOND_MS) {
        const middle = before + Math.floor((after - before) / 2 / SECOND_MS) * SECOND_MS;
        if (probeOffset(middle, timezone) === lowOffset) before = middle;
        else after = middle;
      }
      chunk.at.push(after);
      chunk.offsets.push(offset);
    }
    low = probe;
    lowOffset = offset;
  }
  if (chunks.size >= MAX_CACHED_CHUNKS) chunks.clear();
  chunks.set(key, chunk);
  return chunk;
}

/** An offset change: from `at` on, the offset is `offset`; before it, `previous`. */
interface Change {
  at: number;
  previous: number;
  offset: number;
}

/** The zone's offset at `instantMs`. */
function offsetAt(instantMs: number, timezone: string): number {
  const chunk = chunkOf(timezone, Math.floor(instantMs / CHUNK_MS));
  let offset = chunk.startOffset;
  for (let index = 0; index < chunk.at.length && (chunk.at[index] as number) <= instantMs; index++) {
    offset = chunk.offsets[index] as number;
  }
  return offset;
}

/** The offset changes at instants in (fromMs, toMs], in order. */
function changesBetween(fromMs: number, toMs: number, timezone: string): Change[] {
  const changes: Change[] = [];
  const first = Math.floor(fromMs / CHUNK_MS);
  const last = Math.floor(toMs / CHUNK_MS);
  for (let index = first; index <= last; index++) {
    const chunk = chunkOf(timezone, index);
    chunk.at.forEach((at, position) => {
      if (at > fromMs && at <= toMs) {
        const previous = position === 0 ? chunk.startOffset : (chunk.offsets[position - 1] as number);
        changes.push({ at, previous, offset: chunk.offsets[position] as number });
      }
    });
  }
  return changes;
}

/** The wall-clock time (floating) shown in `timezone` at `instantMs`. */
export function toWallMs(instantMs: number, timezone: string): number {
  if (timezone === 'UTC') return instantMs;
  return instantMs + offsetAt(instantMs, timezone);
}

/**
 * The latest wall-clock time the zone's clock has shown up to `instantMs` included: the current
 * one, or, during the second pass of a fall-back, the last one shown before the clock went back.
 * Wall times up to it have had their firing.
 */
export function wallHighWater(instantMs: number, timezone: string): number {
  if (timezone === 'UTC') return instantMs;
  let highest = toWallMs(instantMs, timezone);
  for (const change of changesBetween(instantMs - 2 * REACH_MS, instantMs, timezone)) {
    highest = Math.max(highest, change.at - 1 + change.previous);
  }
  return highest;
}

/**
 * The instant a wall-clock time (floating) fires at: the first instant at which the zone's clock
 * shows `wallMs` or later. Its first occurrence when it exists; the end of the gap when a
 * spring-forward skips it.
 */
export function firingInstant(wallMs: number, timezone: string): number {
  if (timezone === 'UTC') return wallMs;
  // Before wallMs - REACH_MS every clock shows less than wallMs; at wallMs + REACH_MS, more.
  let segmentStart = wallMs - REACH_MS;
  let offset = offsetAt(segmentStart, timezone);
  for (const change of changesBetween(segmentStart, wallMs + REACH_MS, timezone)) {
    // Over [segmentStart, change.at) the clock shows instant + offset: does it reach wallMs?
    if (change.at - 1 + offset >= wallMs) return Math.max(segmentStart, wallMs - offset);
    segmentStart = change.at;
    offset = change.offset;
  }
  return Math.max(segmentStart, wallMs - offset);
}
