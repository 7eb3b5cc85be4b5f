import { defineExecutor, parseSchedule, ValidationError } from '@cronkeeper/core';
import { describe, expect, it } from 'vitest';
import { fakeTimeScheduler } from './helpers.js';

// Every expected instant below is worked out by hand from the zone's published rules (noted beside
// each case), not read back from the implementation.

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

function rejection(expr: string): ValidationError {
  try {
    parseSchedule(expr);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error(`"${expr}" was accepted`);
}

describe('zones more than 12 hours ahead of UTC', () => {
  it('Auckland: a wall time skipped by spring-forward fires at the end of the gap', () => {
    // 2025-09-28 02:00 NZST (+12) jumps to 03:00 NZDT (+13) = 2025-09-27T14:00Z.
    expect(firings('30 2 * * *', 'Pacific/Auckland', '2025-09-27T00:00:00Z', 2)).toEqual([
      '2025-09-27T14:00:00.000Z',
      '2025-09-28T13:30:00.000Z',
    ]);
  });

  it('Auckland: a wall time repeated by fall-back fires at its first occurrence only', () => {
    // 2025-04-06 03:00 NZDT (+13) falls back to 02:00 NZST (+12) at 2025-04-05T14:00Z.
    expect(firings('15 2 * * *', 'Pacific/Auckland', '2025-04-05T00:00:00Z', 2)).toEqual([
      '2025-04-05T13:15:00.000Z',
      '2025-04-06T14:15:00.000Z',
    ]);
    // Asked between the two 02:15s, the second one is not a new firing.
    expect(firings('15 2 * * *', 'Pacific/Auckland', '2025-04-05T13:30:00Z', 1)).toEqual([
      '2025-04-06T14:15:00.000Z',
    ]);
  });

  it('Chatham (+12:45/+13:45): every slot of the gap fires once at its end, and time never runs back', () => {
    // 2025-09-28 02:45 CHAST (+12:45) jumps to 03:45 CHADT (+13:45) = 2025-09-27T14:00Z:
    // 02:49 … 03:42 do not exist and fire once, at 03:45.
    expect(firings('*/7 * * * *', 'Pacific/Chatham', '2025-09-27T13:00:00Z', 13)).toEqual([
      '2025-09-27T13:04:00.000Z', // 01:49
      '2025-09-27T13:11:00.000Z', // 01:56
      '2025-09-27T13:15:00.000Z', // 02:00
      '2025-09-27T13:22:00.000Z',
      '2025-09-27T13:29:00.000Z',
      '2025-09-27T13:36:00.000Z',
      '2025-09-27T13:43:00.000Z',
      '2025-09-27T13:50:00.000Z',
      '2025-09-27T13:57:00.000Z', // 02:42
      '2025-09-27T14:00:00.000Z', // 03:45, for 02:49 … 03:42, which do not exist
      '2025-09-27T14:04:00.000Z', // 03:49
      '2025-09-27T14:11:00.000Z', // 03:56
      '2025-09-27T14:15:00.000Z', // 04:00
    ]);
    // 2025-04-06 03:45 CHADT falls back to 02:45 CHAST at 2025-04-05T14:00Z: the second pass of
    // 02:45-03:45 fires nothing, the next new wall time is 03:49 CHAST.
    expect(firings('*/7 * * * *', 'Pacific/Chatham', '2025-04-05T13:50:00Z', 3)).toEqual([
      '2025-04-05T13:57:00.000Z', // 03:42 CHADT
      '2025-04-05T15:04:00.000Z', // 03:49 CHAST
      '2025-04-05T15:11:00.000Z',
    ]);
  });

  it('Kiritimati (+14) and Apia, including the day Samoa skipped', () => {
    expect(firings('0 9 * * *', 'Pacific/Kiritimati', '2026-01-01T00:00:00Z', 2)).toEqual([
      '2026-01-01T19:00:00.000Z',
      '2026-01-02T19:00:00.000Z',
    ]);
    // Apia went from -10 to +14 at the end of 2011-12-29: 30 December never happened there. Its
    // 09:00 fires at the first instant after the gap, 2011-12-31 00:00 local (2011-12-30T10:00Z).
    expect(firings('0 9 * * *', 'Pacific/Apia', '2011-12-29T00:00:00Z', 3)).toEqual([
      '2011-12-29T19:00:00.000Z', // 29 Dec 09:00 at -10
      '2011-12-30T10:00:00.000Z', // the skipped 30 Dec 09:00
      '2011-12-30T19:00:00.000Z', // 31 Dec 09:00 at +14
    ]);
  });
});

describe('the DST examples of the concepts guide', () => {
  it('Paris spring-forward: the slots of the gap fire once, together, as it ends', () => {
    expect(firings('*/10 * * * *', 'Europe/Paris', '2026-03-29T00:45:00Z', 3)).toEqual([
      '2026-03-29T00:50:00.000Z', // 01:50 CET
      '2026-03-29T01:00:00.000Z', // 03:00 CEST, for 02:00 … 02:50 and 03:00
      '2026-03-29T01:10:00.000Z',
    ]);
  });

  it('New York fall-back: 01:30 fires at 01:30 EDT only', () => {
    expect(firings('30 1 * * *', 'America/New_York', '2025-11-01T12:00:00Z', 2)).toEqual([
      '2025-11-02T05:30:00.000Z',
      '2025-11-03T06:30:00.000Z',
    ]);
  });
});

describe('second-level schedules in a repeated hour', () => {
  it('New York: `* * * * * *` asked during the second pass continues after it', () => {
    // 2025-11-02 02:00 EDT falls back to 01:00 EST at 06:00Z; 01:00-02:00 repeats.
    for (const from of ['2025-11-02T06:00:00Z', '2025-11-02T06:30:00Z', '2025-11-02T06:59:59.500Z']) {
      expect(firings('* * * * * *', 'America/New_York', from, 2), from).toEqual([
        '2025-11-02T07:00:00.000Z',
        '2025-11-02T07:00:01.000Z',
      ]);
    }
    // The last second of the first pass, then the clock repeats an hour already fired.
    expect(firings('* * * * * *', 'America/New_York', '2025-11-02T05:59:58Z', 2)).toEqual([
      '2025-11-02T05:59:59.000Z',
      '2025-11-02T07:00:00.000Z',
    ]);
  });

  it('Paris and Lord Howe (a 30-minute fall-back)', () => {
    // Paris 2025-10-26 03:00 CEST falls back to 02:00 CET at 01:00Z.
    expect(firings('* * * * * *', 'Europe/Paris', '2025-10-26T01:10:00Z', 1)).toEqual([
      '2025-10-26T02:00:00.000Z',
    ]);
    // Lord Howe 2025-04-06 02:00 (+11) falls back to 01:30 (+10:30) at 2025-04-05T15:00Z.
    expect(firings('* * * * * *', 'Australia/Lord_Howe', '2025-04-05T15:10:00Z', 1)).toEqual([
      '2025-04-05T15:30:00.000Z',
    ]);
  });

  it('`*/3 * 18-23,2 * * *` across the New York and Paris fall-backs', () => {
    for (const from of ['2025-11-02T05:30:00Z', '2025-11-02T06:10:00Z', '2025-11-02T06:59:58Z']) {
      expect(firings('*/3 * 18-23,2 * * *', 'America/New_York', from, 2), from).toEqual([
        '2025-11-02T07:00:00.000Z',
        '2025-11-02T07:00:03.000Z',
      ]);
    }
    // In Paris the repeated hour is 02:00-03:00 itself: from its second pass, the next slot is 18:00.
    for (const from of ['2025-10-26T00:59:58Z', '2025-10-26T01:10:00Z', '2025-10-26T01:59:59Z']) {
      expect(firings('*/3 * 18-23,2 * * *', 'Europe/Paris', from, 2), from).toEqual([
        '2025-10-26T17:00:00.000Z',
        '2025-10-26T17:00:03.000Z',
      ]);
    }
  });

  it('a secondly job created or resumed during the second pass fires after it (it used to stop for good)', async () => {
    const { clock, scheduler } = fakeTimeScheduler('2025-11-02T06:30:00Z', {
      noop: defineExecutor({ run: () => {} }),
    });
    const errors: unknown[] = [];
    scheduler.on('scheduler:error', (event) => errors.push(event));
    const created = await scheduler.jobs.create({
      name: 'tick',
      executor: 'noop',
      schedule: '* * * * * *',
      timezone: 'America/New_York',
    });
    expect(iso(created.nextRunAt)).toBe('2025-11-02T07:00:00.000Z');
    await scheduler.jobs.pause('tick', 'maintenance');
    clock.set('2025-11-02T06:45:00Z');
    expect(iso((await scheduler.jobs.resume('tick')).nextRunAt)).toBe('2025-11-02T07:00:00.000Z');
    clock.set('2025-11-02T07:00:00Z');
    const { executed } = await scheduler.runDue();
    expect(executed.map((run) => iso(run.scheduledFor))).toEqual(['2025-11-02T07:00:00.000Z']);
    expect(iso((await scheduler.jobs.get('tick')).nextRunAt)).toBe('2025-11-02T07:00:01.000Z');
    expect(errors).toEqual([]);
  });
});

describe('lists with overlapping values', () => {
  it('accepts them, as Vixie cron does, and fires each time once', () => {
    const from = '2026-01-01T00:00:00Z'; // a Thursday
    expect(firings('0 0 * * 0,7', 'UTC', from, 2)).toEqual([
      '2026-01-04T00:00:00.000Z',
      '2026-01-11T00:00:00.000Z',
    ]);
    expect(firings('0 0 * * 5-7,0', 'UTC', from, 4)).toEqual([
      '2026-01-02T00:00:00.000Z',
      '2026-01-03T00:00:00.000Z',
      '2026-01-04T00:00:00.000Z',
      '2026-01-09T00:00:00.000Z',
    ]);
    expect(firings('0-30,15 * * * *', 'UTC', '2026-01-01T00:29:00Z', 2)).toEqual([
      '2026-01-01T00:30:00.000Z',
      '2026-01-01T01:00:00.000Z',
    ]);
    expect(firings('*/15,30 * * * *', 'UTC', from, 4)).toEqual([
      '2026-01-01T00:15:00.000Z',
      '2026-01-01T00:30:00.000Z',
      '2026-01-01T00:45:00.000Z',
      '2026-01-01T01:00:00.000Z',
    ]);
  });
});

describe('schedules that never fire', () => {
  it('are refused with a ValidationError naming the field and the reason', () => {
    for (const expr of ['0 0 30 2 *', '0 0 31 4,6 *', '0 0 31 2,4 *']) {
      const error = rejection(expr);
      expect(error.path, expr).toBe('schedule');
      expect(error.message, expr).toMatch(/never/);
      expect(error.message, expr).toMatch(/day of month/);
    }
    expect(rejection('0 0 30 2 *').message).toMatch(/day of month 30 never occurs in February/);
  });

  it('accepts a date that exists only in leap years', () => {
    expect(firings('0 0 29 2 *', 'UTC', '2026-01-01T00:00:00Z', 2)).toEqual([
      '2028-02-29T00:00:00.000Z',
      '2032-02-29T00:00:00.000Z',
    ]);
  });
});

describe('the syntax documented in the concepts guide', () => {
  it('accepts macros, `a/n` steps, `?`, weekday ranges to Sunday, `L`, `nL` and `#`', () => {
    const from = '2026-01-01T00:00:00Z'; // a Thursday
    expect(firings('@midnight', 'UTC', from, 1)).toEqual(['2026-01-02T00:00:00.000Z']);
    expect(firings('@weekdays', 'UTC', from, 2)).toEqual([
      '2026-01-02T00:00:00.000Z',
      '2026-01-05T00:00:00.000Z',
    ]);
    expect(firings('@weekends', 'UTC', from, 2)).toEqual([
      '2026-01-03T00:00:00.000Z',
      '2026-01-04T00:00:00.000Z',
    ]);
    expect(firings('@secondly', 'UTC', from, 1)).toEqual(['2026-01-01T00:00:01.000Z']);
    expect(firings('5/20 * * * *', 'UTC', from, 3)).toEqual([
      '2026-01-01T00:05:00.000Z',
      '2026-01-01T00:25:00.000Z',
      '2026-01-01T00:45:00.000Z',
    ]);
    expect(firings('0 0 * * FRI-SUN', 'UTC', from, 4)).toEqual([
      '2026-01-02T00:00:00.000Z',
      '2026-01-03T00:00:00.000Z',
      '2026-01-04T00:00:00.000Z',
      '2026-01-09T00:00:00.000Z',
    ]);
    expect(firings('0 0 1,L * ?', 'UTC', from, 2)).toEqual([
      '2026-01-31T00:00:00.000Z',
      '2026-02-01T00:00:00.000Z',
    ]);
    expect(firings('0 0 * * 5L', 'UTC', from, 2)).toEqual([
      '2026-01-30T00:00:00.000Z',
      '2026-02-27T00:00:00.000Z',
    ]);
    expect(firings('0 0 * * mon#1,FRI#2', 'UTC', from, 3)).toEqual([
      '2026-01-05T00:00:00.000Z',
      '2026-01-09T00:00:00.000Z',
      '2026-02-02T00:00:00.000Z',
    ]);
  });

  it('refuses W, L-n and H with a message, and backwards ranges with a way out', () => {
    expect(rejection('0 0 15W * *').message).toMatch(/day of month "15W" is not supported/);
    expect(rejection('0 0 L-3 * *').message).toMatch(/not supported/);
    expect(rejection('H * * * *').message).toMatch(/"H" \(a hashed value\) is not supported/);
    expect(rejection('0 22-2 * * *').message).toMatch(/range 22-2 runs backwards; .* 22-23,0-2/);
    expect(rejection('@reboot').message).toMatch(/not a known macro/);
    expect(rejection('* * * * * * *').message).toMatch(/has 7 fields/);
  });
});

describe('interval aliases follow the wall clock of the job zone', () => {
  it('every_60_minutes agrees with hourly in Asia/Kathmandu (+05:45)', () => {
    const from = '2025-01-01T00:00:00Z'; // 05:45 local
    const hourly = firings('hourly', 'Asia/Kathmandu', from, 3);
    expect(hourly).toEqual([
      '2025-01-01T00:15:00.000Z',
      '2025-01-01T01:15:00.000Z',
      '2025-01-01T02:15:00.000Z',
    ]);
    expect(firings('every_60_minutes', 'Asia/Kathmandu', from, 3)).toEqual(hourly);
    expect(firings('every_1_hours', 'Asia/Kathmandu', from, 3)).toEqual(hourly);
  });

  it('an interval that divides a day lands on the same local times every day, from midnight', () => {
    // every_90_minutes: 00:00, 01:30, 03:00 … 22:30 local; 06:00 and 07:30 Kathmandu.
    expect(firings('every_90_minutes', 'Asia/Kathmandu', '2025-01-01T00:00:00Z', 2)).toEqual([
      '2025-01-01T00:15:00.000Z',
      '2025-01-01T01:45:00.000Z',
    ]);
    // every_8_hours: 00:00, 08:00, 16:00 local in Lord Howe (+11 in January).
    expect(firings('every_8_hours', 'Australia/Lord_Howe', '2025-01-01T00:00:00Z', 3)).toEqual([
      '2025-01-01T05:00:00.000Z',
      '2025-01-01T13:00:00.000Z',
      '2025-01-01T21:00:00.000Z',
    ]);
  });

  it('an interval that does not divide a day keeps its spacing on the local clock, from 1970-01-01 00:00', () => {
    // 2025-01-01 00:00 is 482 136 hours after 1970-01-01 00:00; the multiples of 5 around it are
    // 2024-12-31 23:00 and 2025-01-01 04:00, local time, whatever the zone.
    expect(firings('every_5_hours', 'UTC', '2024-12-31T22:00:00Z', 2)).toEqual([
      '2024-12-31T23:00:00.000Z',
      '2025-01-01T04:00:00.000Z',
    ]);
    expect(firings('every_5_hours', 'Asia/Kathmandu', '2024-12-31T17:00:00Z', 2)).toEqual([
      '2024-12-31T17:15:00.000Z', // 23:00 local
      '2024-12-31T22:15:00.000Z', // 04:00 local
    ]);
  });

  it('every_7_minutes carries its spacing across midnight', () => {
    // 2026-01-01 is 20 454 days after 1970-01-01, a multiple of 7: its first slot is 00:00.
    expect(firings('every_7_minutes', 'UTC', '2025-12-31T23:59:00Z', 1)).toEqual([
      '2026-01-01T00:00:00.000Z',
    ]);
    expect(firings('every_7_minutes', 'UTC', '2026-01-01T23:50:00Z', 2)).toEqual([
      '2026-01-01T23:55:00.000Z',
      '2026-01-02T00:02:00.000Z',
    ]);
  });

  it('interval slots follow the DST rule like cron slots', () => {
    // Paris 2026-03-29 02:00 CET jumps to 03:00 CEST (01:00Z). every_7_minutes: the local grid
    // continues from 1970-01-01 00:00; 2026-03-29 00:00 is 20 541 days in, 20 541 × 1440 ≡ 1 (mod 7),
    // so that day's slots are 00:06, 00:13 …; 01:58 fires, 02:05 … 02:54 do not exist and fire at
    // 03:00 local, then 03:01.
    expect(firings('every_7_minutes', 'Europe/Paris', '2026-03-29T00:55:00Z', 3)).toEqual([
      '2026-03-29T00:58:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-29T01:01:00.000Z',
    ]);
    // Paris 2026-10-25 03:00 CEST falls back to 02:00 CET (01:00Z): 2026-10-25 00:00 is 20 751 days
    // in, 20 751 × 1440 ≡ 1 (mod 7) again: 02:54 CEST fires, the second pass fires nothing, then 03:01 CET.
    expect(firings('every_7_minutes', 'Europe/Paris', '2026-10-25T00:50:00Z', 2)).toEqual([
      '2026-10-25T00:54:00.000Z',
      '2026-10-25T02:01:00.000Z',
    ]);
  });
});

describe('day of month and day of week together', () => {
  it('either restricted field matches (the crontab manual rule), `*/2` included', () => {
    // Odd days of the month, or Mondays (5 and 12 January 2026 are Mondays).
    expect(firings('0 0 */2 * 1', 'UTC', '2026-01-01T00:00:00Z', 6)).toEqual([
      '2026-01-03T00:00:00.000Z',
      '2026-01-05T00:00:00.000Z',
      '2026-01-07T00:00:00.000Z',
      '2026-01-09T00:00:00.000Z',
      '2026-01-11T00:00:00.000Z',
      '2026-01-12T00:00:00.000Z',
    ]);
    // The last day of the month, or Fridays.
    expect(firings('0 0 L * FRI', 'UTC', '2026-01-24T00:00:00Z', 3)).toEqual([
      '2026-01-30T00:00:00.000Z',
      '2026-01-31T00:00:00.000Z',
      '2026-02-06T00:00:00.000Z',
    ]);
  });

  it('a `*` or `?` day field leaves the other one alone', () => {
    expect(firings('0 0 ? * MON', 'UTC', '2026-01-01T00:00:00Z', 2)).toEqual([
      '2026-01-05T00:00:00.000Z',
      '2026-01-12T00:00:00.000Z',
    ]);
    expect(firings('0 0 13 * ?', 'UTC', '2026-01-01T00:00:00Z', 2)).toEqual([
      '2026-01-13T00:00:00.000Z',
      '2026-02-13T00:00:00.000Z',
    ]);
  });
});
