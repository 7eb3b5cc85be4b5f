import { parseSchedule, ValidationError } from '@cronkeeper/core';
import { describe, expect, it, vi } from 'vitest';

const iso = (date: Date | null) => date?.toISOString() ?? null;

function firings(expr: string, timezone: string, from: string, count: number): (string | null)[] {
  const schedule = parseSchedule(expr, { timezone });
  const out: (string | null)[] = [];
  let cursor: Date | null = new Date(from);
  for (let i = 0; i < count && cursor; i++) {
    cursor = schedule.next(cursor);
    out.push(iso(cursor));
  }
  return out;
}

describe('parseSchedule', () => {
  it('accepts 5- and 6-field cron, macros, L and #', () => {
    expect(firings('*/15 * * * *', 'UTC', '2026-01-01T00:00:00Z', 2)).toEqual([
      '2026-01-01T00:15:00.000Z',
      '2026-01-01T00:30:00.000Z',
    ]);
    expect(firings('*/10 * * * * *', 'UTC', '2026-01-01T00:00:00.500Z', 2)).toEqual([
      '2026-01-01T00:00:10.000Z',
      '2026-01-01T00:00:20.000Z',
    ]);
    expect(firings('@daily', 'UTC', '2026-01-01T12:00:00Z', 1)).toEqual(['2026-01-02T00:00:00.000Z']);
    expect(firings('0 0 L * *', 'UTC', '2026-02-01T00:00:00Z', 1)).toEqual(['2026-02-28T00:00:00.000Z']);
    expect(firings('0 9 * * MON#2', 'UTC', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-12T09:00:00.000Z']);
    // "?" is "any" in a day field.
    expect(firings('0 9 ? * MON', 'UTC', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-05T09:00:00.000Z']);
    expect(firings('0 9 15 * ?', 'UTC', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-15T09:00:00.000Z']);
  });

  it("accepts seed 002's aliases and the cron: prefix", () => {
    const from = '2026-01-01T00:02:00Z'; // a Thursday
    expect(firings('every_5_minutes', 'UTC', from, 1)).toEqual(['2026-01-01T00:05:00.000Z']);
    expect(firings('every_15_minutes', 'UTC', from, 1)).toEqual(['2026-01-01T00:15:00.000Z']);
    expect(firings('every_30_minutes', 'UTC', from, 1)).toEqual(['2026-01-01T00:30:00.000Z']);
    expect(firings('hourly', 'UTC', from, 1)).toEqual(['2026-01-01T01:00:00.000Z']);
    expect(firings('daily', 'UTC', from, 1)).toEqual(['2026-01-02T00:00:00.000Z']);
    expect(firings('weekly', 'UTC', from, 1)).toEqual(['2026-01-05T00:00:00.000Z']); // Monday 00:00
    expect(firings('every_7_minutes', 'UTC', from, 2)).toEqual([
      '2026-01-01T00:07:00.000Z',
      '2026-01-01T00:14:00.000Z',
    ]);
    expect(firings('every_2_hours', 'UTC', from, 1)).toEqual(['2026-01-01T02:00:00.000Z']);
    expect(firings('cron:0 2 * * *', 'UTC', from, 1)).toEqual(['2026-01-01T02:00:00.000Z']);
  });

  it('evaluates wall-clock times in the job zone', () => {
    expect(firings('0 2 * * *', 'America/New_York', '2026-01-01T00:00:00Z', 1)).toEqual([
      '2026-01-01T07:00:00.000Z',
    ]);
  });

  it('fires a wall time skipped by spring-forward once, at the first instant after the gap', () => {
    // Paris, 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00Z).
    expect(firings('30 2 * * *', 'Europe/Paris', '2026-03-28T00:00:00Z', 3)).toEqual([
      '2026-03-28T01:30:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:30:00.000Z',
    ]);
    expect(firings('*/30 * * * *', 'Europe/Paris', '2026-03-29T00:10:00Z', 3)).toEqual([
      '2026-03-29T00:30:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-29T01:30:00.000Z',
    ]);
  });

  it('fires a wall time repeated by fall-back once, at its first occurrence', () => {
    // Paris, 2026-10-25: 03:00 CEST falls back to 02:00 CET (01:00Z); 02:30 happens twice.
    expect(firings('30 2 * * *', 'Europe/Paris', '2026-10-24T12:00:00Z', 2)).toEqual([
      '2026-10-25T00:30:00.000Z',
      '2026-10-26T01:30:00.000Z',
    ]);
    expect(firings('*/30 * * * *', 'Europe/Paris', '2026-10-24T23:50:00Z', 4)).toEqual([
      '2026-10-25T00:00:00.000Z',
      '2026-10-25T00:30:00.000Z',
      '2026-10-25T02:00:00.000Z',
      '2026-10-25T02:30:00.000Z',
    ]);
  });

  it('describes schedules in English and French', () => {
    expect(parseSchedule('0 3 * * *').describe('en')).toBe('At 03:00');
    expect(parseSchedule('0 3 * * *').describe('fr')).toBe('À 03:00');
    expect(parseSchedule('every_5_minutes').describe()).toBe('Every 5 minutes');
    expect(parseSchedule('every_7_minutes').describe('fr')).toBe('Toutes les 7 minutes');
  });

  it('describes in a regional locale by its language, and in English, silently, for one it does not know', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      expect(parseSchedule('0 3 * * *').describe('fr-CA')).toBe('À 03:00');
      expect(parseSchedule('0 3 * * *').describe('pt-BR')).toBe(parseSchedule('0 3 * * *').describe('pt_BR'));
      for (const unknown of ['xx-<script>', 'constructor', '__proto__', 'toString'])
        expect(parseSchedule('0 3 * * *').describe(unknown), unknown).toBe('At 03:00');
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it('rejects invalid expressions and zones with a ValidationError naming the field', () => {
    for (const bad of [
      '',
      'bad',
      '* * *',
      '61 * * * *',
      '* * * * * * *',
      'every_0_minutes',
      'x'.repeat(300),
      // Names of Object's own properties, which a lookup in a plain object would find.
      'constructor',
      '__proto__',
      'toString',
      'cron:hasOwnProperty',
      '@valueOf',
      // "?" belongs to the day fields only.
      '? * * * *',
      '0 ? * * *',
      '0 0 * ? *',
      '? 0 0 * * *',
    ]) {
      const error = (() => {
        try {
          parseSchedule(bad);
        } catch (caught) {
          return caught;
        }
      })();
      expect(error, bad).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).path).toBe('schedule');
    }
    expect(() => parseSchedule('* * * * *', { timezone: 'Mars/Olympus' })).toThrow(/timezone/);
  });

  it('says which day-of-month syntax is not supported, naming the item as written', () => {
    expect(() => parseSchedule('0 0 15W * *')).toThrow(
      /day of month "15W" is not supported: "W" \(the nearest weekday\)/,
    );
    expect(() => parseSchedule('0 0 LW * *')).toThrow(/day of month "LW" is not supported: "W"/);
    for (const item of ['L-3', 'L/2', '1-L', '1,L-1'.split(',')[1] as string]) {
      expect(() => parseSchedule(`0 0 ${item} * *`), item).toThrow(
        new RegExp(
          `day of month "${item.replace('/', '\\/')}" is not supported: "L" \\(the last day of the month\\) stands alone`,
        ),
      );
    }
    // "L" alone, and in a list, is the last day of the month.
    expect(parseSchedule('0 0 L * *').next(new Date('2026-02-10T00:00:00Z'))).toEqual(
      new Date('2026-02-28T00:00:00Z'),
    );
    expect(parseSchedule('0 0 1,L * *').next(new Date('2026-02-10T00:00:00Z'))).toEqual(
      new Date('2026-02-28T00:00:00Z'),
    );
    expect(() => parseSchedule('nope')).toThrow(/"nope" has 1 field; a cron expression has 5/);
    expect(() => parseSchedule('1 2 3')).toThrow(/"1 2 3" has 3 fields;/);
  });

  it('refuses an interval alias past its largest number with that limit, not as a cron expression', () => {
    expect(() => parseSchedule('every_99999_hours')).not.toThrow();
    for (const bad of ['every_100000_minutes', 'every_999999_hours', `every_${'9'.repeat(40)}_minutes`]) {
      expect(() => parseSchedule(bad), bad).toThrow(/schedule: ".*": the interval must be at most 99999$/);
    }
  });
});
