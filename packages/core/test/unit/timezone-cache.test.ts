import { describe, expect, it } from 'vitest';
import { parseSchedule } from '../../src/schedule.js';
import { isValidTimezone, zoneCacheSizes } from '../../src/timezone.js';

/** `zone` with its letters' case set by the bits of `variant`: `Intl` takes every one of them. */
function spelling(zone: string, variant: number): string {
  return [...zone]
    .map((char, index) => ((variant >> (index % 24)) & 1 ? char.toUpperCase() : char.toLowerCase()))
    .join('');
}

describe('time zone spellings', () => {
  it('keeps one formatter per zone however many spellings of it come in, as a request may send', () => {
    const before = zoneCacheSizes().formatters;
    for (let variant = 0; variant < 3000; variant++)
      expect(isValidTimezone(spelling('America/Argentina/ComodRivadavia', variant))).toBe(true);
    const after = zoneCacheSizes();
    expect(after.formatters - before).toBeLessThanOrEqual(1);
    expect(after.spellings).toBeLessThanOrEqual(1000);
  });

  it('fires a schedule spelt in another case at the same instants as the zone as written', () => {
    const after = new Date('2026-03-28T12:00:00Z');
    const times = (timezone: string) => {
      const schedule = parseSchedule('30 2 * * *', { timezone });
      const first = schedule.next(after) as Date;
      return [first, schedule.next(first) as Date].map((date) => date.toISOString());
    };
    // Paris skips 02:00–03:00 on 2026-03-29: the skipped 02:30 fires at 03:00 local (01:00 UTC).
    expect(times('europe/PARIS')).toEqual(times('Europe/Paris'));
    expect(times('Europe/Paris')).toEqual(['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']);
  });
});
