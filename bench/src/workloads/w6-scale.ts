/**
 * W6 scale: the same due work (100 jobs firing every second) with 1 000 and with 100 000 stored
 * jobs. A child process seeds the jobs, runs one scheduler, and measures over a window: CPU per
 * tick, the client's and the database server's (the PostgreSQL backends of the child's own
 * connections, or the redis-server process, from /proc), store calls and backend round trips per
 * tick (counted around the store and its pool / client), and resident memory. Cost should follow
 * the due work, not the stored jobs.
 */
import { Child } from '../lib/children.js';
import { benchScheduler, Recorder } from '../lib/instance.js';
import { reply, serve } from '../lib/ipc.js';
import type { BenchContext, Row, Workload } from '../lib/report.js';
import { subjectOf } from '../lib/report.js';
import { cpuBetween } from '../lib/server-cpu.js';
import { median, sleep } from '../lib/stats.js';
import { dropNamespace, openStore, type StoreKind } from '../lib/stores.js';

const DUE = 100;
const labelOf = (kind: StoreKind, total: number) => `w6${kind[0]}${total}`;
const WARMUP_MS = 1_500;
const CONCURRENCY = 100;

interface ScaleConfig {
  kind: StoreKind;
  /** Namespace of the stored jobs. */
  label: string;
  /** Jobs to store in all (the due ones included). */
  total: number;
  /** Jobs already stored by an earlier child (same namespace): only the difference is added. */
  existing: number;
  measureMs: number;
}

export interface ScaleResult {
  total: number;
  ticks: number;
  cpuMsPerTick: number;
  /** The database server's CPU per tick; null in memory or when /proc does not show it. */
  serverCpuMsPerTick: number | null;
  storeCallsPerTick: number;
  roundTripsPerTick: number;
  runsPerSecond: number;
  rssMb: number;
  seedS: number;
}

/** Child role `scale`: seed, run one scheduler, measure, report, exit. */
export async function runScaleChild(config: ScaleConfig): Promise<void> {
  serve({}, async () => {});
  const opened = await openStore(config.kind, config.label, {
    applicationName: `ckbench-w6-${config.label}-${process.pid}`,
  });
  const recorder = new Recorder();
  const scheduler = benchScheduler(opened, recorder, { concurrency: CONCURRENCY });
  const seedStart = Date.now();
  // Filler jobs fire once a day, half a day from now: never during the run.
  const fillerSchedule = `0 ${(new Date().getUTCHours() + 12) % 24} * * *`;
  const toAdd = Array.from({ length: config.total - config.existing }, (_, k) => config.existing + k);
  const [due, filler] = [toAdd.filter((index) => index < DUE), toAdd.filter((index) => index >= DUE)];
  for (const index of due)
    await scheduler.jobs.create({ name: `job-${index}`, executor: 'record', schedule: '* * * * * *' });
  if (filler.length > 0) {
    // One filler job through the API; its copies straight into the store, renamed: validating
    // and planning 100 000 identical jobs would only measure `jobs.create`, not the loop.
    const first = await scheduler.jobs.create({
      name: `job-${filler[0]}`,
      executor: 'record',
      schedule: fillerSchedule,
    });
    const { id: _id, version: _version, ...template } = first;
    // Through the store's bulk insert, a chunk per round trip: the seeding is set-up, not measured.
    const copies = filler.slice(1).map((index) => ({ ...template, name: `job-${index}` }));
    for (let start = 0; start < copies.length; start += 10_000)
      await opened.store.insertJobs(copies.slice(start, start + 10_000));
  }
  const seedS = (Date.now() - seedStart) / 1000;
  await scheduler.start();
  await sleep(WARMUP_MS);
  const server0 = await opened.serverCpu?.read();
  const cpu0 = process.cpuUsage();
  const calls0 = opened.calls.snapshot();
  const trips0 = opened.backend.get('roundTrips');
  const finished0 = recorder.finished;
  await sleep(config.measureMs);
  const cpu = process.cpuUsage(cpu0);
  const serverMs = cpuBetween(server0 ?? null, (await opened.serverCpu?.read()) ?? null);
  const calls = opened.calls.snapshot();
  const ticks = (calls.nextWakeAt ?? 0) - (calls0.nextWakeAt ?? 0);
  // A "tick" of due work is one second's DUE firings: loop iterations per second vary with how
  // wake-ups coalesce, so costs are divided by the runs executed, times DUE.
  const dueTicks = (recorder.finished - finished0) / DUE;
  const storeCalls = Object.entries(calls).reduce(
    (sum, [name, count]) => sum + count - (calls0[name] ?? 0),
    0,
  );
  const result: ScaleResult = {
    total: config.total,
    ticks,
    cpuMsPerTick: (cpu.user + cpu.system) / 1000 / dueTicks,
    serverCpuMsPerTick: serverMs === null ? null : serverMs / dueTicks,
    storeCallsPerTick: storeCalls / dueTicks,
    roundTripsPerTick: (opened.backend.get('roundTrips') - trips0) / dueTicks,
    runsPerSecond: ((recorder.finished - finished0) / config.measureMs) * 1000,
    rssMb: process.memoryUsage().rss / 2 ** 20,
    seedS,
  };
  await scheduler.stop({ grace: '1s' });
  await opened.close();
  reply({ type: 'result', result });
}

async function measure(config: ScaleConfig): Promise<ScaleResult> {
  const child = new Child('scale', config);
  try {
    return (await child.waitFor('result', 600_000)).result as ScaleResult;
  } finally {
    await child.stop();
  }
}

export const w6: Workload = {
  id: 'W6',
  title: `scale: 1 000 vs 100 000 stored jobs (5 000 with --quick), ${DUE} due per second`,
  async run(ctx: BenchContext): Promise<Row[]> {
    const measureMs = ctx.quick ? 2_000 : 4_000;
    // --quick keeps within its minute with 5 000 jobs; the full run stores 100 000.
    const large = ctx.quick ? 5_000 : 100_000;
    // The stores are measured side by side: CPU time and call counts per tick do not depend on
    // the wall clock, and one after the other would not fit the run's budget.
    const perStore = await Promise.all(ctx.kinds.map((kind) => measureStore(ctx, kind, large, measureMs)));
    return perStore.flat();
  },
};

async function measureStore(
  ctx: BenchContext,
  kind: StoreKind,
  large: number,
  measureMs: number,
): Promise<Row[]> {
  const rows: Row[] = [];
  {
    const series = async (total: number): Promise<ScaleResult[]> => {
      const label = labelOf(kind, total);
      const results: ScaleResult[] = [];
      await dropNamespace(kind, label);
      try {
        // Repetitions after the first find the jobs stored (except in memory, which dies with its child).
        for (let rep = 0; rep < ctx.reps; rep++)
          results.push(
            await measure({
              kind,
              label,
              total,
              existing: kind === 'memory' || rep === 0 ? 0 : total,
              measureMs,
            }),
          );
      } finally {
        await dropNamespace(kind, label);
      }
      return results;
    };
    // --quick runs both sizes side by side to stay within its minute; the full run, one by one.
    const [small, big] = ctx.quick
      ? await Promise.all([series(1_000), series(large)])
      : [await series(1_000), await series(large)];
    const seeded = big[0]?.seedS ?? 0;
    ctx.log(`W6 ${kind}: seeded ${large} jobs in ${seeded.toFixed(1)} s`);
    const server = (result: ScaleResult) => result.serverCpuMsPerTick ?? Number.NaN;
    const metrics: { name: string; unit: string; pick: (result: ScaleResult) => number; target?: boolean }[] =
      [
        {
          name: 'loop iterations per second',
          unit: '/s',
          pick: (result) => (result.ticks / measureMs) * 1000,
        },
        {
          name: kind === 'memory' ? 'CPU per tick' : 'CPU per tick, client + database server',
          unit: 'ms',
          pick: (result) => result.cpuMsPerTick + (kind === 'memory' ? 0 : server(result)),
          target: true,
        },
        ...(kind === 'memory'
          ? []
          : [
              { name: 'of which client CPU', unit: 'ms', pick: (result: ScaleResult) => result.cpuMsPerTick },
              {
                name: `of which ${kind === 'postgres' ? 'PostgreSQL backends' : 'redis-server'} CPU`,
                unit: 'ms',
                pick: server,
              },
            ]),
        {
          name: 'backend round trips per tick',
          unit: '',
          pick: (result) => result.roundTripsPerTick,
          target: true,
        },
        { name: 'store calls per tick', unit: '', pick: (result) => result.storeCallsPerTick },
        { name: 'runs executed per second', unit: 'runs/s', pick: (result) => result.runsPerSecond },
        { name: 'resident memory', unit: 'MB', pick: (result) => result.rssMb },
      ];
    for (const metric of metrics) {
      const at1k = median(small.map(metric.pick));
      const at100k = median(big.map(metric.pick));
      const ratio = at100k / at1k;
      const checked =
        metric.target && !(kind === 'memory' && metric.name.startsWith('backend')) && Number.isFinite(ratio);
      rows.push({
        workload: 'W6',
        subject: subjectOf(kind),
        settings: `1 scheduler, concurrency ${CONCURRENCY}, poll 1 s`,
        metric: `${metric.name}: 1k → ${large / 1000}k`,
        value: ratio,
        unit: '×',
        note: `${at1k.toFixed(2)} → ${at100k.toFixed(2)} ${metric.unit}`.trim(),
        ...(checked ? { target: '≤ 1.5×', met: ratio <= 1.5 } : {}),
      });
    }
  }
  return rows;
}
