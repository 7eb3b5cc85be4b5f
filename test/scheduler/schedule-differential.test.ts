import { parseSchedule, ValidationError } from '@cronkeeper/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DayRule, namesAnyDate, referenceNext, replay, type WallSpec } from './schedule-reference.js';

/*
 * Differential test: random schedules × zones × start instants at and around DST changes, each
 * `next()` of `parseSchedule` compared with the reference evaluator of schedule-reference.ts, which
 * shares no code with it. Seeded: a failure prints the seed and the shrunk case to replay it.
 *
 *   CRONKEEPER_SCHEDULE_RUNS=200000 pnpm vitest run test/scheduler/schedule-differential.test.ts
 *   CRONKEEPER_SCHEDULE_SEED=123 …     (another seed)
 */

const RUNS = Number(process.env.CRONKEEPER_SCHEDULE_RUNS ?? 4000);
const SEED = Number(process.env.CRONKEEPER_SCHEDULE_SEED ?? 20_251_102);
// Long runs are cut into tests of this many cases (seeds SEED, SEED + 1 …), each under a minute.
const BATCH = 4000;
const STEPS = 3; // successive next() calls per case, each from the previous firing
const HORIZON = 10 * 366 * 86_400_000;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Zones, each over years with the changes worth testing. */
const WINDOWS: { zone: string; from: string; to: string }[] = [
  { zone: 'Pacific/Auckland', from: '2024-01-01', to: '2027-12-31' },
  { zone: 'Pacific/Chatham', from: '2024-01-01', to: '2027-12-31' },
  { zone: 'Australia/Lord_Howe', from: '2024-01-01', to: '2027-12-31' },
  { zone: 'Asia/Kathmandu', from: '1985-06-01', to: '1986-06-01' }, // +05:30 to +05:45
  { zone: 'Asia/Kathmandu', from: '2025-01-01', to: '2026-01-01' },
  { zone: 'America/Sao_Paulo', from: '2010-01-01', to: '2020-01-01' }, // DST at midnight, until 2019
  { zone: 'Pacific/Apia', from: '2010-09-01', to: '2012-12-31' }, // 2011-12-30 skipped
  { zone: 'America/New_York', from: '2024-01-01', to: '2027-12-31' },
  { zone: 'Europe/Paris', from: '2024-01-01', to: '2027-12-31' },
  { zone: 'Pacific/Kiritimati', from: '1994-06-01', to: '1995-06-01' }, // 1994-12-31 skipped
  { zone: 'Pacific/Kiritimati', from: '2025-01-01', to: '2026-01-01' }, // +14
  { zone: 'Pacific/Kwajalein', from: '1993-01-01', to: '1994-01-01' }, // -12 to +12
  { zone: 'America/Havana', from: '2024-01-01', to: '2026-12-31' }, // DST at midnight
  { zone: 'Asia/Tehran', from: '2019-01-01', to: '2022-12-31' }, // DST at midnight, until 2022
  { zone: 'Antarctica/Troll', from: '2024-01-01', to: '2026-12-31' }, // a 2-hour DST
  { zone: 'America/St_Johns', from: '2024-01-01', to: '2026-12-31' },
  { zone: 'Africa/Casablanca', from: '2024-01-01', to: '2026-12-31' }, // Ramadan changes
  { zone: 'UTC', from: '2024-01-01', to: '2026-12-31' },
];

/** Each window with the instants at which its zone's clock jumps, found by the reference. */
const windows = WINDOWS.map((window) => {
  const from = Date.parse(`${window.from}T00:00:00Z`);
  const to = Date.parse(`${window.to}T00:00:00Z`);
  const changes = replay(window.zone, from, to)
    .slice(1)
    .map((stretch) => stretch.from);
  return { ...window, fromMs: from, toMs: to, changes };
});

interface Field {
  text: string;
  values: Set<number>;
}

const range = (low: number, high: number, step = 1) => {
  const values = new Set<number>();
  for (let value = low; value <= high; value += step) values.add(value);
  return values;
};

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** One list item of a field over [min, max], with the values it names. */
function itemOf(
  min: number,
  max: number,
  values: fc.Arbitrary<number>,
  names?: (v: number) => string | null,
) {
  const label = (value: number, named: boolean, lower: boolean) => {
    const name = named ? names?.(value) : null;
    if (!name) return String(value);
    return lower ? name.toLowerCase() : name;
  };
  const pair = fc.tuple(values, values).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const);
  const step = fc.integer({ min: 1, max: Math.max(2, max - min + 2) });
  return fc.oneof(
    fc.tuple(values, fc.boolean(), fc.boolean()).map(([value, named, lower]) => ({
      text: label(value, named, lower),
      values: range(value, value),
    })),
    fc.tuple(pair, fc.boolean()).map(([[low, high], named]) => ({
      text: `${label(low, named, false)}-${label(high, named, false)}`,
      values: range(low, high),
    })),
    step.map((n) => ({ text: `*/${n}`, values: range(min, max, n) })),
    fc
      .tuple(pair, step)
      .map(([[low, high], n]) => ({ text: `${low}-${high}/${n}`, values: range(low, high, n) })),
    fc.tuple(values, step).map(([low, n]) => ({ text: `${low}/${n}`, values: range(low, max, n) })),
  );
}

/** A whole field: `*`, or a list of 1-4 items whose values may overlap. */
function fieldOf(
  min: number,
  max: number,
  values: fc.Arbitrary<number>,
  star: number,
  names?: (v: number) => string | null,
): fc.Arbitrary<Field> {
  const list = fc.array(itemOf(min, max, values, names), { minLength: 1, maxLength: 4 }).map((items) => ({
    text: items.map((item) => item.text).join(','),
    values: new Set(items.flatMap((item) => [...item.values])),
  }));
  if (star === 0) return list;
  return fc.oneof(
    { weight: star, arbitrary: fc.constant({ text: '*', values: range(min, max) }) },
    { weight: 10 - star, arbitrary: list },
  );
}

// Values near the hours and minutes at which zones change their clocks.
const edgeHours = fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 22, 23), fc.integer({ min: 0, max: 23 }));
const edgeMinutes = fc.oneof(fc.constantFrom(0, 15, 30, 44, 45, 46, 59), fc.integer({ min: 0, max: 59 }));
const anySecond = fc.oneof(fc.constantFrom(0, 30, 59), fc.integer({ min: 0, max: 59 }));

const anyDay: DayRule = { any: true, matches: () => true };

/** Day of month: values 1-31, with or without `L` (the last day). */
const dayOfMonth: fc.Arbitrary<{ text: string; rule: DayRule }> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom('*', '?').map((text) => ({ text, rule: anyDay })) },
  {
    weight: 5,
    arbitrary: fc
      .tuple(
        fieldOf(1, 31, fc.oneof(fc.integer({ min: 1, max: 31 }), fc.constantFrom(1, 28, 29, 30, 31)), 0),
        fc.constantFrom('', '', ',L', 'L'),
      )
      .map(([field, last]) => {
        const text = last === 'L' ? 'L' : `${field.text}${last}`;
        const values = last === 'L' ? new Set<number>() : field.values;
        const rule: DayRule = {
          any: false,
          matches: (day, _weekday, length) => values.has(day) || (last !== '' && day === length),
        };
        return { text, rule };
      }),
  },
);

/** Day of week: plain values (7 is Sunday), or one `5L` (last Friday) or `MON#2` item among them. */
const dayOfWeek: fc.Arbitrary<{ text: string; rule: DayRule }> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('*', '?').map((text) => ({ text, rule: anyDay })) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fieldOf(0, 7, fc.integer({ min: 0, max: 7 }), 0, (v) => WEEKDAYS[v] ?? null),
        fc.option(
          fc.oneof(
            fc
              .integer({ min: 0, max: 7 })
              .map((weekday) => ({ text: `${weekday}L`, weekday: weekday % 7, nth: 0 })),
            fc
              .tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 1, max: 5 }))
              .map(([weekday, nth]) => ({ text: `${WEEKDAYS[weekday]}#${nth}`, weekday, nth })),
          ),
        ),
        fc.boolean(),
      )
      .map(([field, special, only]) => {
        const values = special && only ? new Set<number>() : new Set([...field.values].map((v) => v % 7));
        const texts = special && only ? [special.text] : special ? [field.text, special.text] : [field.text];
        const rule: DayRule = {
          any: false,
          matches: (day, weekday, length) => {
            if (values.has(weekday)) return true;
            if (!special || special.weekday !== weekday) return false;
            return special.nth === 0 ? day + 7 > length : Math.ceil(day / 7) === special.nth;
          },
        };
        return { text: texts.join(','), rule };
      }),
  },
);

interface Case {
  expression: string;
  spec: WallSpec;
}

const cronCase: fc.Arbitrary<Case> = fc
  .record({
    seconds: fc.option(fieldOf(0, 59, anySecond, 3), { freq: 3 }),
    minutes: fieldOf(0, 59, edgeMinutes, 3),
    hours: fieldOf(0, 23, edgeHours, 3),
    dayOfMonth,
    months: fieldOf(1, 12, fc.integer({ min: 1, max: 12 }), 7, (v) => MONTHS[v - 1] ?? null),
    dayOfWeek,
  })
  .map((f) => ({
    expression: [
      ...(f.seconds ? [f.seconds.text] : []),
      f.minutes.text,
      f.hours.text,
      f.dayOfMonth.text,
      f.months.text,
      f.dayOfWeek.text,
    ].join(' '),
    spec: {
      kind: 'cron',
      seconds: f.seconds?.values ?? new Set([0]),
      minutes: f.minutes.values,
      hours: f.hours.values,
      months: f.months.values,
      dayOfMonth: f.dayOfMonth.rule,
      dayOfWeek: f.dayOfWeek.rule,
    },
  }));

const intervalCase: fc.Arbitrary<Case> = fc.oneof(
  fc
    .oneof(fc.constantFrom(7, 45, 59, 60, 61, 90, 120, 1440), fc.integer({ min: 1, max: 3000 }))
    .map((n): Case => ({ expression: `every_${n}_minutes`, spec: { kind: 'grid', periodMs: n * MINUTE } })),
  fc
    .oneof(fc.constantFrom(1, 5, 7, 24, 25, 48), fc.integer({ min: 1, max: 100 }))
    .map((n): Case => ({ expression: `every_${n}_hours`, spec: { kind: 'grid', periodMs: n * HOUR } })),
);

const startOf = fc.integer({ min: 0, max: windows.length - 1 }).chain((index) => {
  const window = windows[index] as (typeof windows)[number];
  const random = fc.integer({ min: window.fromMs, max: window.toMs }).map((at) => ({ window, at }));
  if (window.changes.length === 0) return random;
  const nearChange = fc
    .tuple(
      fc.constantFrom(...window.changes),
      fc.oneof(
        fc.constantFrom(0, -1, 1, -SECOND, SECOND, -HOUR, HOUR, -30 * MINUTE, 30 * MINUTE, -2 * HOUR),
        fc.integer({ min: -3 * HOUR, max: 3 * HOUR }),
        fc.integer({ min: -26 * 3600, max: 2 * 3600 }).map((seconds) => seconds * SECOND),
      ),
    )
    .map(([change, delta]) => ({ window, at: change + delta }));
  return fc.oneof({ weight: 4, arbitrary: nearChange }, { weight: 1, arbitrary: random });
});

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

describe('parseSchedule().next() against an independent evaluator', () => {
  for (let batch = 0; batch * BATCH < RUNS; batch++) {
    const runs = Math.min(BATCH, RUNS - batch * BATCH);
    it(`agrees on ${runs} random schedules × zones × DST-edge starts, ${STEPS} steps each (seed ${SEED + batch})`, () => {
      agreeOn(runs, SEED + batch);
    }, 120_000);
  }
});

function agreeOn(runs: number, seed: number): void {
  fc.assert(
    fc.property(
      fc.oneof({ weight: 9, arbitrary: cronCase }, { weight: 1, arbitrary: intervalCase }),
      startOf,
      ({ expression, spec }, { window, at }) => {
        let schedule: ReturnType<typeof parseSchedule>;
        try {
          schedule = parseSchedule(expression, { timezone: window.zone });
        } catch (error) {
          // Refused only when it names no date at all (31 February), and then as a ValidationError.
          expect(error).toBeInstanceOf(ValidationError);
          expect(namesAnyDate(spec), `${expression} was refused: ${String(error)}`).toBe(false);
          return;
        }
        expect(namesAnyDate(spec), `${expression} names no date but was accepted`).toBe(true);
        let cursor = at;
        for (let step = 0; step < STEPS; step++) {
          const expected = referenceNext(spec, window.zone, cursor, HORIZON);
          const actual = schedule.next(new Date(cursor));
          const context = `${expression} in ${window.zone}, after ${iso(cursor)}`;
          // Beyond the reference's horizon it cannot say; a schedule this sparse is still never null.
          if (expected === null) {
            expect(actual, context).not.toBeNull();
            expect((actual as Date).getTime() - cursor, context).toBeGreaterThan(HORIZON);
            return;
          }
          expect(iso(actual?.getTime() ?? null), context).toBe(iso(expected));
          cursor = expected;
        }
      },
    ),
    { numRuns: runs, seed },
  );
}
