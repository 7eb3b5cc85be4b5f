import fc from 'fast-check';

/**
 * Generators of values a caller (or an HTTP body passed through) may hand the public API: mostly
 * wrong, sometimes right, so accepted and rejected calls interleave and the store's state moves.
 */

/** Any JSON-ish or not-at-all-JSON value. */
export const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(undefined, null, NaN, Number.POSITIVE_INFINITY, -1, 0, 1.5, '', ' ', true, [], {}),
  fc.string({ maxLength: 30 }),
  fc.integer(),
  fc.double(),
  fc.date({ noInvalidDate: false }),
  fc.constant(new Date(Number.NaN)),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
  fc.string({ minLength: 201, maxLength: 260 }),
  fc.constant(() => 'a function'),
  fc.constant(Symbol('s')),
  fc.bigInt(),
);

/** A value that is right with some probability, else junk. */
export function maybe<T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 2, arbitrary: valid }, { weight: 1, arbitrary: junk });
}

/** Optionally present: absent keys are left out, so "missing" is tried as well as "wrong". */
export function record(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(fields, { requiredKeys: [] });
}

export const schedule = fc.oneof(
  fc.constantFrom(
    '* * * * *',
    '*/5 * * * * *',
    '0 0 1 1 *',
    '@daily',
    'every_15_minutes',
    'every_7_hours',
    'cron:0 3 * * *',
    '0 0 L * *',
    '0 9 * * 1#2',
    // wrong ones
    '* * * * * * *',
    '61 * * * *',
    '* * 32 * *',
    'every_0_minutes',
    'cron:',
    'hourly daily',
    '@never',
    '0 0 30 2 *',
  ),
  fc.string({ maxLength: 20 }),
);

export const timezone = fc.oneof(
  fc.constantFrom('UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'Etc/GMT+12'),
  fc.constantFrom('Mars/Olympus', 'utc+1', 'GMT+25', '', 'Europe/', '../etc/passwd'),
  fc.string({ maxLength: 12 }),
);

export const duration = fc.oneof(
  fc.constantFrom('30s', '5m', '3d', '1.5h', 0, 1000, '10 s', '5 minutes', '-1s', '1y', 'ms'),
  fc.integer({ min: -10, max: 10_000_000 }),
  fc.double(),
  fc.string({ maxLength: 6 }),
);

export const date = fc.oneof(
  fc.date({ min: new Date('2020-01-01'), max: new Date('2035-01-01'), noInvalidDate: true }),
  fc
    .date({ min: new Date('2020-01-01'), max: new Date('2035-01-01'), noInvalidDate: true })
    .map((value) => value.toISOString()),
  fc.constantFrom('tomorrow', '2026-02-30T00:00:00Z', '2026-13-01', '', 'Invalid Date'),
  fc.constant(new Date(Number.NaN)),
);

export const params = fc.oneof(
  fc.constant({}),
  fc.record({ n: fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 3 })) }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  junk,
);

/** Names: the ones in the store, fresh valid ones, and wrong ones. */
export const jobName = fc.oneof(
  fc.constantFrom('known', 'other', 'missing'),
  fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/),
  fc.constantFrom('', ' padded ', 'x'.repeat(201)),
  junk,
);

export const executorName = fc.oneof(fc.constantFrom('ok', 'typed', 'unknown', ''), junk);

export const tenantId = fc.oneof(fc.constantFrom(null, 'acme', 'globex', ''), junk);

export const task = fc.oneof(
  executorName,
  record({ executor: executorName, enabled: maybe(fc.boolean()), params }),
);

export const retry = fc.oneof(
  fc.constant(null),
  record({
    limit: maybe(fc.integer({ min: 0, max: 5 })),
    backoff: maybe(
      record({ type: maybe(fc.constantFrom('fixed', 'exponential')), delay: duration, max: duration }),
    ),
  }),
  junk,
);

/** Fields of jobs.create / jobs.update. */
export const jobFields = {
  name: jobName,
  description: maybe(fc.string({ maxLength: 20 })),
  schedule: maybe(schedule),
  timezone,
  executor: executorName,
  tasks: maybe(fc.array(task, { maxLength: 3 })),
  params,
  enabled: maybe(fc.boolean()),
  overlap: maybe(fc.constantFrom('skip', 'queue', 'allow', 'never')),
  misfire: maybe(fc.constantFrom('once', 'skip', 'all', 'sometimes')),
  catchUpLimit: maybe(fc.integer({ min: -5, max: 2000 })),
  misfireGrace: duration,
  timeout: duration,
  retry,
  jitter: duration,
  priority: maybe(fc.integer({ min: -2000, max: 2000 })),
  activeFrom: date,
  activeUntil: date,
  metadata: params,
};

export const runStatus = fc.oneof(fc.constantFrom('pending', 'running', 'succeeded', 'stuck'), junk);
export const runTrigger = fc.oneof(fc.constantFrom('schedule', 'manual', 'once', 'retry', 'cron'), junk);

/** A valid value with up to three of its fields replaced by wild ones: near misses, mostly. */
export function corrupt(
  base: fc.Arbitrary<Record<string, unknown>>,
  fields: Record<string, fc.Arbitrary<unknown>>,
): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .tuple(base, fc.record(fields), fc.subarray(Object.keys(fields), { maxLength: 3 }))
    .map(([valid, wild, keys]) => ({ ...valid, ...Object.fromEntries(keys.map((key) => [key, wild[key]])) }));
}

export const validJob = fc.record({
  name: fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/),
  schedule: fc.constantFrom('* * * * *', '0 0 1 1 *', '@daily', 'every_15_minutes', 'cron:0 3 * * *'),
  timezone: fc.constantFrom('UTC', 'Europe/Paris', 'America/New_York'),
  executor: fc.constantFrom('ok', 'typed'),
});

export const validTarget = fc.oneof(
  fc.constant({ job: 'known' }),
  fc.constant({ job: 'other', tenantId: 'acme', params: { n: 1 } }),
  fc.constant({ executor: 'ok' }),
  fc.record({ executor: fc.constant('typed'), params: fc.record({ n: fc.integer() }) }),
);
