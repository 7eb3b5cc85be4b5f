/**
 * W3 cron fire lag: 100 jobs on one schedule across 2 instances; for every slot inside the
 * measured window, lag = executor start − slot time, and each (job, slot) must run exactly once.
 * Slots before the instances were up are left out: they measure start-up, not the loop.
 */
import { Cluster } from '../lib/cluster.js';
import type { BenchContext, Row, Workload } from '../lib/report.js';
import { subjectOf } from '../lib/report.js';
import { type Latency, latencyOf, mapLimit, sleep } from '../lib/stats.js';
import type { StoreKind } from '../lib/stores.js';

const JOBS = 100;
const INSTANCES = 2;
/** Room for every job's run at once on each instance: all 100 come due at the same instant. */
const CONCURRENCY = 50;

interface Granularity {
  name: 'second' | 'minute';
  schedule: string;
  periodMs: number;
}

const SECOND: Granularity = { name: 'second', schedule: '* * * * * *', periodMs: 1_000 };
/**
 * Once a minute, at the second of the minute that comes 10 s after the jobs are created (written
 * `S * * * * *` in the figures): with `* * * * *` the window would wait up to a minute for the
 * next minute boundary, which the run's 5-minute budget cannot afford.
 */
const MINUTE: Granularity = { name: 'minute', schedule: 'S * * * * *', periodMs: 60_000 };
/** Lead time before a minute window's only slot: jobs created and both instances up. */
const MINUTE_LEAD_MS = 10_000;

interface Outcome {
  latency: Latency;
  duplicates: number;
  misses: number;
  slots: number;
}

async function measure(kind: StoreKind, granularity: Granularity, windowMs: number): Promise<Outcome> {
  const label = `w3${granularity.name[0]}`;
  const cluster = await Cluster.open(kind, label, { instances: INSTANCES, concurrency: CONCURRENCY });
  try {
    const minuteSlot = Math.ceil((Date.now() + MINUTE_LEAD_MS) / 1_000) * 1_000;
    const schedule =
      granularity.name === 'minute'
        ? `${new Date(minuteSlot).getUTCSeconds()} * * * * *`
        : granularity.schedule;
    await mapLimit(Array.from({ length: JOBS }), 8, (_, index) =>
      cluster.client.jobs.create({
        name: `tick-${index}`,
        executor: 'record',
        schedule,
      }),
    );
    await cluster.start();
    // The window opens on the first slot at least a second after every instance is up.
    const from =
      granularity.name === 'minute'
        ? Math.max(minuteSlot, Math.ceil((Date.now() + 1_000) / 1_000) * 1_000)
        : Math.ceil((Date.now() + 1_000) / granularity.periodMs) * granularity.periodMs;
    const until = from + windowMs;
    await sleep(until - Date.now() + 1_500);
    const counts = new Map<string, number>();
    const lags: number[] = [];
    for (const [, startedAt, slot, job] of await cluster.starts()) {
      if (slot === null || slot < from || slot >= until) continue;
      const key = `${job}@${slot}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      lags.push(startedAt - slot);
    }
    const expected = JOBS * Math.ceil(windowMs / granularity.periodMs);
    let duplicates = 0;
    for (const count of counts.values()) duplicates += count - 1;
    return { latency: latencyOf(lags), duplicates, misses: expected - counts.size, slots: expected };
  } finally {
    await cluster.close();
  }
}

function rowsOf(kind: StoreKind, granularity: Granularity, windowS: number, outcome: Outcome): Row[] {
  const subject = subjectOf(kind);
  const what = `${granularity.schedule} × ${JOBS}, ${windowS} s`;
  const checked = granularity.name === 'second';
  return [
    { workload: 'W3', subject, metric: `lag p50 (${what})`, value: outcome.latency.p50, unit: 'ms' },
    {
      workload: 'W3',
      subject,
      metric: 'lag p95',
      value: outcome.latency.p95,
      unit: 'ms',
      ...(checked ? { target: '≤ 50 ms', met: outcome.latency.p95 <= 50 } : {}),
    },
    { workload: 'W3', subject, metric: 'lag max', value: outcome.latency.max, unit: 'ms' },
    {
      workload: 'W3',
      subject,
      metric: `duplicates + misses (of ${outcome.slots} slots)`,
      value: outcome.duplicates + outcome.misses,
      unit: 'runs',
      target: '0 / 0',
      met: outcome.duplicates === 0 && outcome.misses === 0,
      note: `${outcome.duplicates} duplicates, ${outcome.misses} misses`,
    },
  ];
}

export const w3: Workload = {
  id: 'W3',
  title: 'cron fire lag: 100 jobs across 2 instances',
  async run(ctx: BenchContext): Promise<Row[]> {
    const rows: Row[] = [];
    const secondWindowS = ctx.quick ? 3 : 15;
    // --quick measures the stores side by side to stay within its minute (figures indicative only);
    // the full run measures them one after the other.
    const outcomes = ctx.quick
      ? await Promise.all(ctx.kinds.map((kind) => measure(kind, SECOND, secondWindowS * 1_000)))
      : [];
    for (const [index, kind] of ctx.kinds.entries()) {
      const outcome = outcomes[index] ?? (await measure(kind, SECOND, secondWindowS * 1_000));
      ctx.log(
        `W3 ${kind} second: p50 ${outcome.latency.p50.toFixed(1)} p95 ${outcome.latency.p95.toFixed(1)} max ${outcome.latency.max.toFixed(1)} ms, dup ${outcome.duplicates}, miss ${outcome.misses}`,
      );
      rows.push(...rowsOf(kind, SECOND, secondWindowS, outcome));
    }
    if (!ctx.quick) {
      // A window per store would not fit the run's budget: the stores share one minute-long window
      // (one slot per job), in the background of W4 and W6 (whose figures are counts and CPU time, not latency). This lag
      // therefore includes that load; it has no target.
      const kinds = [...ctx.kinds];
      ctx.background(
        Promise.all(kinds.map((kind) => measure(kind, MINUTE, 60_000))).then((outcomes) =>
          kinds.flatMap((kind, index) => {
            const outcome = outcomes[index] as Outcome;
            ctx.log(
              `W3 ${kind} minute: p95 ${outcome.latency.p95.toFixed(1)} ms, dup ${outcome.duplicates}, miss ${outcome.misses}`,
            );
            return rowsOf(kind, MINUTE, 60, outcome);
          }),
        ),
      );
    }
    return rows;
  },
};
