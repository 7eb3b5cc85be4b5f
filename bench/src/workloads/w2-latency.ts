/**
 * W2 run-now latency: one idle instance; a second instance (a client that only writes) triggers a
 * run every 200 ms; latency is trigger call → executor start, as both clocks are this machine's.
 */
import { Cluster } from '../lib/cluster.js';
import type { BenchContext, Row, Workload } from '../lib/report.js';
import { subjectOf } from '../lib/report.js';
import { latencyOf, preciseNow, sleep } from '../lib/stats.js';
import type { StoreKind } from '../lib/stores.js';

const SPACING_MS = 200;

/** Trigger `triggers` runs `SPACING_MS` apart, after `offsetMs`; latency of each, in ms. */
async function triggerSeries(cluster: Cluster, triggers: number, offsetMs: number): Promise<number[]> {
  await sleep(offsetMs);
  const sent = new Map<string, number>();
  for (let index = 0; index < triggers; index++) {
    const at = preciseNow();
    const run = await cluster.client.trigger({ executor: 'record' });
    sent.set(run.id, at);
    await sleep(Math.max(0, SPACING_MS - (preciseNow() - at)));
  }
  await sleep(500);
  const latencies: number[] = [];
  for (const [runId, startedAt] of await cluster.starts()) {
    const at = sent.get(runId);
    if (at !== undefined) latencies.push(startedAt - at);
  }
  // A trigger that never started counts as infinitely late rather than vanishing from the figures.
  for (let missing = sent.size - latencies.length; missing > 0; missing--)
    latencies.push(Number.POSITIVE_INFINITY);
  return latencies;
}

/**
 * The stores are measured side by side to keep the run short, their triggers interleaved (each
 * store's series is offset by a fraction of the spacing), so no two triggers are in flight at once.
 */
async function measure(kinds: StoreKind[], triggers: number): Promise<number[][]> {
  const clusters: Cluster[] = [];
  try {
    for (const kind of kinds) clusters.push(await Cluster.open(kind, 'w2', { instances: 1 }));
    await Promise.all(clusters.map((cluster) => cluster.start()));
    // Let the idle instances settle into their sleep, as a real idle worker would be.
    await sleep(500);
    return await Promise.all(
      clusters.map((cluster, index) =>
        triggerSeries(cluster, triggers, (index * SPACING_MS) / clusters.length),
      ),
    );
  } finally {
    await Promise.all(clusters.map((cluster) => cluster.close()));
  }
}

export const w2: Workload = {
  id: 'W2',
  title: 'run-now latency: trigger from a second instance → executor start',
  async run(ctx: BenchContext): Promise<Row[]> {
    const triggers = ctx.quick ? 10 : 50;
    const rows: Row[] = [];
    const series = await measure(ctx.kinds, triggers);
    for (const [index, kind] of ctx.kinds.entries()) {
      const latency = latencyOf(series[index] ?? []);
      ctx.log(
        `W2 ${kind}: p50 ${latency.p50.toFixed(2)} ms, p95 ${latency.p95.toFixed(2)} ms, max ${latency.max.toFixed(2)} ms`,
      );
      const checked = kind !== 'memory';
      const metric = `${triggers} triggers, ${SPACING_MS} ms apart`;
      rows.push(
        {
          workload: 'W2',
          subject: subjectOf(kind),
          metric: `p50 (${metric})`,
          value: latency.p50,
          unit: 'ms',
          ...(checked ? { target: '≤ 3 ms', met: latency.p50 <= 3 } : {}),
        },
        {
          workload: 'W2',
          subject: subjectOf(kind),
          metric: 'p95',
          value: latency.p95,
          unit: 'ms',
          ...(checked ? { target: '≤ 10 ms', met: latency.p95 <= 10 } : {}),
        },
        { workload: 'W2', subject: subjectOf(kind), metric: 'max', value: latency.max, unit: 'ms' },
      );
    }
    return rows;
  },
};
