/** How a date given as text must be written; every date error says so. */
export const DATE_TEXT_RULE = 'use ISO 8601 with Z or an offset, e.g. 2027-02-01T09:00:00Z, or a date alone';

// A date-time with `Z` or an offset (RFC 3339; seconds, fraction and the offset's colon optional),
// or a date alone. Nothing is read in the server's time zone, and no other form is guessed at.
// Years past 9999 or before 0 take six digits and a sign, as `toISOString` writes them; they are
// read so that the range check can say what is wrong with them.
const ISO_DATE =
  /^(\d{4}|[+-]\d{6})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2})))?$/;

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * The instant an ISO 8601 text names, or null when it names none: a date-time with `Z` or an
 * offset (`2027-02-01T09:00:00Z`, `2027-02-01T10:00+01:00`), or a date alone (`2027-02-01`,
 * midnight UTC, as JavaScript reads it). An impossible calendar date (`2027-02-30`) is null rather
 * than rolled over into the next month.
 */
export function parseIsoDate(value: string): Date | null {
  const match = ISO_DATE.exec(value);
  if (!match || match[1] === '-000000') return null;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => Number(part ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const fraction = match[7] ?? '';
  const sign = match[9] === '-' ? -1 : 1;
  const offsetHours = Number(match[10] ?? 0);
  const offsetMinutes = Number(match[11] ?? 0);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return null;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC, which reads years 0–99 as 1900–1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, Number(fraction.padEnd(3, '0').slice(0, 3)));
  return new Date(date.getTime() - sign * (offsetHours * 60 + offsetMinutes) * 60_000);
}
