/**
 * W5 cron math: `next()` evaluations per second of two expressions in Europe/Paris, and the share
 * of one firing's cost (find the due job, plan its slots, fire, claim, execute a no-op, finish, on
 * the memory store in fake time) that evaluating the schedule takes.
 */
import { memoryStore } from '@cronkeeper/adapter-memory';
import { createScheduler, defineExecutor, manualClock, parseSchedule } from '@cronkeeper/core';
import type { BenchContext, Row, Workload } from '../lib/report.js';
import { mapLimit, median, preciseNow } from '../lib/stats.js';

const ZONE = 'Europe/Paris';
const EXPRESSIONS = ['*/5 * * * *', '0 3 * * 1-5'];
const FIRING_JOBS = 1_000;

/** `next()` calls per second, each from the previous result (as a scheduler walks a schedule). */
function nextOpsPerSecond(expression: string, durationMs: number): number {
  const schedule = parseSchedule(expression, { timezone: ZONE });
  let cursor = new Date('2026-01-01T00:00:00Z');
  let ops = 0;
  const start = preciseNow();
  while (preciseNow() - start < durationMs) {
    for (let i = 0; i < 100; i++) cursor = schedule.next(cursor) ?? new Date('2026-01-01T00:00:00Z');
    ops += 100;
  }
  return (ops / (preciseNow() - start)) * 1000;
}

/**
 * Microseconds per firing (find the due job, plan, fire, claim, execute a no-op, finish) of
 * FIRING_JOBS jobs on `schedule`, on the memory store in fake time.
 */
async function firingCost(schedule: string, timezone: string): Promise<number> {
  const clock = manualClock('2026-03-02T08:00:00Z');
  const scheduler = createScheduler({
    store: memoryStore(),
    clock,
    logger: false,
    maintenanceJobs: false,
    concurrency: FIRING_JOBS,
    executors: { noop: defineExecutor({ run: () => {} }) },
  });
  await mapLimit(Array.from({ length: FIRING_JOBS }), 50, (_, index) =>
    scheduler.jobs.create({ name: `job-${index}`, executor: 'noop', schedule, timezone }),
  );
  clock.advance('7m');
  const start = preciseNow();
  const { summary } = await scheduler.runDue({ limit: FIRING_JOBS });
  return ((preciseNow() - start) * 1000) / summary.executed;
}

/**
 * The share of a firing spent on cron math, measured rather than assumed: the same firings on a
 * fixed-interval schedule in UTC (`every_7_minutes`: plain arithmetic, no zone to map) cost the
 * rest; the difference is what evaluating the cron expression in its zone costs.
 */
async function firingShare(): Promise<{ firingUs: number; evalUs: number }> {
  const firingUs = await firingCost(EXPRESSIONS[0] as string, ZONE);
  const intervalUs = await firingCost('every_7_minutes', 'UTC');
  return { firingUs, evalUs: Math.max(0, firingUs - intervalUs) };
}

export const w5: Workload = {
  id: 'W5',
  title: `cron math: next() in ${ZONE}`,
  async run(ctx: BenchContext): Promise<Row[]> {
    const durationMs = ctx.quick ? 300 : 500;
    const rows: Row[] = [];
    for (const expression of EXPRESSIONS) {
      nextOpsPerSecond(expression, 100); // warm-up: JIT and the zone's formatter
      const runs = Array.from({ length: ctx.reps }, () => nextOpsPerSecond(expression, durationMs));
      rows.push({
        workload: 'W5',
        subject: 'core',
        metric: `next() '${expression}' ${ZONE}`,
        value: median(runs),
        unit: 'ops/s',
        runs,
      });
    }
    await firingShare(); // warm-up
    const shares: { firingUs: number; evalUs: number }[] = [];
    for (let rep = 0; rep < ctx.reps; rep++) shares.push(await firingShare());
    const firingUs = median(shares.map((share) => share.firingUs));
    const evalUs = median(shares.map((share) => share.evalUs));
    const percent = shares.map((share) => (100 * share.evalUs) / share.firingUs);
    rows.push(
      {
        workload: 'W5',
        subject: 'core/memory',
        metric: `cost of one firing, '${EXPRESSIONS[0]}' (fire → finish)`,
        value: firingUs,
        unit: 'µs',
        runs: shares.map((share) => share.firingUs),
      },
      {
        workload: 'W5',
        subject: 'core/memory',
        metric: 'of which cron evaluation (vs a fixed interval)',
        value: evalUs,
        unit: 'µs',
      },
      {
        workload: 'W5',
        subject: 'core',
        metric: 'share of a firing spent on schedule evaluation',
        value: median(percent),
        unit: '%',
        runs: percent,
      },
    );
    return rows;
  },
};
