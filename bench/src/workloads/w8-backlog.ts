/**
 * W8 queued backlog: n one-offs of one job-less executor, due at once. Such runs queue on the
 * executor's concurrency key, so they run one at a time, in order; 2 instances at default
 * settings drain them, in claim order. Drain rate = runs started per second from the first start to the last,
 * with a small and a large backlog: a claim or a finish that costs as much as the backlog (every
 * queued run looked at again whenever the key frees) makes the large backlog drain far slower,
 * quadratic in n. Cronkeeper only: the peers have no per-key serial queue at these settings.
 */
import { Cluster } from '../lib/cluster.js';
import type { BenchContext, Row, Workload } from '../lib/report.js';
import { subjectOf } from '../lib/report.js';
import { cronkeeperSettings } from '../lib/settings.js';
import { preciseNow, sleep } from '../lib/stats.js';
import type { StoreKind } from '../lib/stores.js';

const INSTANCES = 2;
/** The large backlog's rate must be at least this share of the small one's. */
const FLAT = 0.67;
const GIVE_UP_MS = 60_000;

interface Drain {
  rate: number;
  duplicates: number;
  misses: number;
  outOfOrder: number;
}

async function drain(kind: StoreKind, count: number, label: string): Promise<Drain> {
  const cluster = await Cluster.open(kind, label, { instances: INSTANCES });
  try {
    const at = new Date(Date.now() + 1_000);
    const created = await cluster.client.schedule(
      Array.from({ length: count }, () => ({ executor: 'record' as const, at })),
    );
    // Claim order: priority, runAt, createdAt, then id (the runs of one call share an instant).
    const inClaimOrder = [...created].sort(
      (a, b) =>
        a.priority - b.priority ||
        a.runAt.getTime() - b.runAt.getTime() ||
        a.createdAt.getTime() - b.createdAt.getTime() ||
        (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
    const order = new Map(inClaimOrder.map((run, index) => [run.id, index]));
    await cluster.start();
    const startedAt = preciseNow();
    let starts = await cluster.starts();
    while (new Set(starts.map(([id]) => id)).size < count && preciseNow() - startedAt < GIVE_UP_MS) {
      await sleep(100);
      starts = await cluster.starts();
    }
    starts.sort((a, b) => a[1] - b[1]);
    const seen = new Set(starts.map(([id]) => id));
    let outOfOrder = 0;
    for (let index = 1; index < starts.length; index++)
      if ((order.get(starts[index]?.[0] ?? '') ?? 0) < (order.get(starts[index - 1]?.[0] ?? '') ?? 0))
        outOfOrder++;
    const first = starts[0]?.[1] ?? 0;
    const last = starts[starts.length - 1]?.[1] ?? 0;
    return {
      rate: seen.size > 1 && last > first ? ((seen.size - 1) / (last - first)) * 1000 : 0,
      duplicates: starts.length - seen.size,
      misses: count - seen.size,
      outOfOrder,
    };
  } finally {
    await cluster.close();
  }
}

export const w8: Workload = {
  id: 'W8',
  title: 'queued backlog: one-offs of one executor run one at a time; drain rate, small and large backlog',
  async run(ctx: BenchContext): Promise<Row[]> {
    const [small, large] = ctx.quick ? [100, 1_000] : [200, 2_000];
    const rows: Row[] = [];
    for (const kind of ctx.kinds) {
      const settings = `${await cronkeeperSettings(kind, { instances: INSTANCES })}; one-offs of one executor (overlap queue)`;
      const few = await drain(kind, small, 'w8s');
      const many = await drain(kind, large, 'w8l');
      ctx.log(
        `W8 ${kind}: ${small} queued → ${few.rate.toFixed(0)} runs/s, ${large} queued → ${many.rate.toFixed(0)} runs/s; dup ${few.duplicates + many.duplicates}, miss ${few.misses + many.misses}, out of order ${few.outOfOrder + many.outOfOrder}`,
      );
      const base = { workload: 'W8', subject: subjectOf(kind), settings, unit: 'runs/s' };
      const ratio = few.rate > 0 ? many.rate / few.rate : 0;
      const faults = few.duplicates + many.duplicates + few.misses + many.misses;
      const outOfOrder = few.outOfOrder + many.outOfOrder;
      rows.push(
        { ...base, metric: `drain rate, ${small} queued`, value: few.rate },
        {
          ...base,
          metric: `drain rate, ${large} queued`,
          value: many.rate,
          target: `≥ ${FLAT}× the rate with ${small} queued`,
          met: ratio >= FLAT,
          note: `${ratio.toFixed(2)}× the rate with ${small} queued`,
        },
        {
          ...base,
          metric: 'duplicates + misses',
          value: faults,
          unit: 'runs',
          target: '0 / 0',
          met: faults === 0,
        },
        {
          ...base,
          metric: 'starts out of claim order',
          value: outOfOrder,
          unit: 'runs',
          note: 'a run started before an earlier one of its key (two instances claiming the key at once)',
        },
      );
    }
    return rows;
  },
};
