/**
 * W4 crash recovery: two instances with default settings; one starts a 60 s executor and is
 * SIGKILLed 2 s in. Measured: kill → the run is no longer `running` (failed `stale`, or retried)
 * as the store shows it. The memory store dies with its process, so it has no row here.
 */
import type { Child } from '../lib/children.js';
import { Cluster } from '../lib/cluster.js';
import type { StartRecord } from '../lib/instance.js';
import type { BenchContext, Row, Workload } from '../lib/report.js';
import { subjectOf } from '../lib/report.js';
import { median, preciseNow, sleep } from '../lib/stats.js';
import type { StoreKind } from '../lib/stores.js';

const KILL_AFTER_MS = 2_000;
const GIVE_UP_MS = 45_000;

interface Outcome {
  recoveryMs: number;
  status: string;
  errorCode: string | null;
}

/** The child whose executor started `runId`, and when. */
async function whoRuns(children: Child[], runId: string): Promise<{ child: Child; startedAt: number }> {
  for (const deadline = preciseNow() + 10_000; preciseNow() < deadline; await sleep(20)) {
    for (const child of children) {
      child.send({ type: 'poll' });
      const last = (await child.waitFor('progress')).lastStart as StartRecord | null;
      if (last?.[0] === runId) return { child, startedAt: last[1] };
    }
  }
  throw new Error(`W4: run ${runId} did not start within 10 s`);
}

async function trial(kind: StoreKind, label: string): Promise<Outcome> {
  const cluster = await Cluster.open(kind, label, { instances: 2 });
  try {
    await cluster.start();
    const run = await cluster.client.trigger({ executor: 'long' });
    const { child, startedAt } = await whoRuns(cluster.children, run.id);
    await sleep(Math.max(0, startedAt + KILL_AFTER_MS - preciseNow()));
    child.process.kill('SIGKILL');
    const killedAt = preciseNow();
    for (;;) {
      const current = await cluster.opened.store.getRun(run.id);
      if (current && current.status !== 'running')
        return {
          recoveryMs: preciseNow() - killedAt,
          status: current.status,
          errorCode: current.error?.code ?? null,
        };
      if (preciseNow() - killedAt > GIVE_UP_MS)
        return { recoveryMs: Number.POSITIVE_INFINITY, status: current?.status ?? 'gone', errorCode: null };
      await sleep(50);
    }
  } finally {
    await cluster.close();
  }
}

export const w4: Workload = {
  id: 'W4',
  title: 'crash recovery: SIGKILL the instance running a 60 s executor, 2 s in',
  async run(ctx: BenchContext): Promise<Row[]> {
    // The trials are mostly a lease lapsing: they run in the background of W6 (and of W3's
    // minute window), whose figures are counts and CPU time rather than wall-clock latency.
    ctx.background(measureAll(ctx));
    return [];
  },
};

async function measureAll(ctx: BenchContext): Promise<Row[]> {
  {
    const kinds = ctx.kinds.filter((kind) => kind !== 'memory');
    const outcomes = new Map<StoreKind, Outcome[]>(kinds.map((kind) => [kind, []]));
    for (let rep = 0; rep < ctx.reps; rep++) {
      // The stores are measured side by side: each trial is mostly waiting for a lease to lapse.
      const results = await Promise.all(kinds.map((kind) => trial(kind, `w4r${rep}`)));
      kinds.forEach((kind, index) => {
        const outcome = results[index] as Outcome;
        ctx.log(
          `W4 ${kind} #${rep + 1}: ${(outcome.recoveryMs / 1000).toFixed(2)} s → ${outcome.status} (${outcome.errorCode})`,
        );
        outcomes.get(kind)?.push(outcome);
      });
    }
    return kinds.map((kind) => {
      const list = outcomes.get(kind) ?? [];
      const seconds = list.map((outcome) => outcome.recoveryMs / 1000);
      const value = median(seconds);
      return {
        workload: 'W4',
        subject: subjectOf(kind),
        metric: 'kill → run failed (stale) or retried, defaults',
        value,
        unit: 's',
        runs: seconds,
        target: '≤ 15 s',
        met: value <= 15,
        note: [...new Set(list.map((outcome) => `${outcome.status}/${outcome.errorCode}`))].join(', '),
      };
    });
  }
}
