/**
 * W3 cron fire lag at default settings: 100 jobs on one schedule across 2 instances; for every slot
 * inside the measured window, lag = handler start − slot time, and each (job, slot) must run
 * exactly once. Slots before the instances were up are left out: they measure start-up, not the loop.
 *
 * - Second granularity, `* * * * * *`: Cronkeeper alone (the peers' cron has minute granularity).
 * - Minute granularity, `* * * * *`: Cronkeeper on every store, graphile-worker (its runner's
 *   crontab) and BullMQ (job schedulers), all in one window at the same minute boundary, so the
 *   three systems share its conditions. It runs in the background of W4's lease waits.
 */
import { type Child, startChildren } from '../lib/children.js';
import { Cluster } from '../lib/cluster.js';
import type { BenchContext, Row, Workload } from '../lib/report.js';
import { subjectOf } from '../lib/report.js';
import { cronkeeperSettings, peerSettings } from '../lib/settings.js';
import { type Latency, latencyOf, mapLimit, sleep } from '../lib/stats.js';
import type { StoreKind } from '../lib/stores.js';
import { createBullSchedulers } from '../peers/client.js';
import { cleanupPeer, type PeerConfig, type PeerName, type PeerStart, preparePeer } from '../peers/worker.js';

const JOBS = 100;
const INSTANCES = 2;
const SECOND = '* * * * * *';
const MINUTE = '* * * * *';
/** After the minute slot, how long its runs may take to start before the window is read. */
const MINUTE_TAIL_MS = 5_000;
/** The peers' namespace here, apart from W4's, which runs at the same time. */
const NS = 'w3m';

interface Outcome {
  latency: Latency;
  duplicates: number;
  misses: number;
  slots: number;
}

/** Lags and exactly-once counts of the (job, slot) starts whose slot lies in [from, until). */
function outcomeOf(
  starts: Iterable<[job: string | number | null, startedAt: number, slot: number | null]>,
  from: number,
  until: number,
  periodMs: number,
): Outcome {
  const counts = new Map<string, number>();
  const lags: number[] = [];
  for (const [job, startedAt, slot] of starts) {
    if (slot === null || slot < from || slot >= until) continue;
    const key = `${job}@${slot}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    lags.push(startedAt - slot);
  }
  const expected = JOBS * Math.ceil((until - from) / periodMs);
  let duplicates = 0;
  for (const count of counts.values()) duplicates += count - 1;
  return { latency: latencyOf(lags), duplicates, misses: expected - counts.size, slots: expected };
}

/** A Cronkeeper cluster at default settings with JOBS jobs on `schedule`, started. */
async function cronkeeperCluster(kind: StoreKind, label: string, schedule: string): Promise<Cluster> {
  const cluster = await Cluster.open(kind, label, { instances: INSTANCES });
  await mapLimit(Array.from({ length: JOBS }), 8, (_, index) =>
    cluster.client.jobs.create({ name: `tick-${index}`, executor: 'record', schedule }),
  );
  await cluster.start();
  return cluster;
}

const cronkeeperStarts = async (cluster: Cluster) =>
  (await cluster.starts()).map(
    ([, at, slot, job]) => [job, at, slot] as [string | null, number, number | null],
  );

async function measureSecond(kind: StoreKind, windowMs: number): Promise<Outcome> {
  const cluster = await cronkeeperCluster(kind, 'w3s', SECOND);
  try {
    // The window opens on the first slot at least a second after every instance is up.
    const from = Math.ceil((Date.now() + 1_000) / 1_000) * 1_000;
    const until = from + windowMs;
    await sleep(until - Date.now() + 1_500);
    return outcomeOf(await cronkeeperStarts(cluster), from, until, 1_000);
  } finally {
    await cluster.close();
  }
}

function rowsOf(
  subject: string,
  settings: string,
  what: string,
  outcome: Outcome,
  p95Target?: Partial<Row>,
): Row[] {
  const base = { workload: 'W3', subject, settings };
  return [
    { ...base, metric: `lag p50 (${what})`, value: outcome.latency.p50, unit: 'ms' },
    { ...base, metric: 'lag p95', value: outcome.latency.p95, unit: 'ms', ...p95Target },
    { ...base, metric: 'lag max', value: outcome.latency.max, unit: 'ms' },
    {
      ...base,
      metric: `duplicates + misses (of ${outcome.slots} slots)`,
      value: outcome.duplicates + outcome.misses,
      unit: 'runs',
      target: '0 / 0',
      met: outcome.duplicates === 0 && outcome.misses === 0,
      note: `${outcome.duplicates} duplicates, ${outcome.misses} misses`,
    },
  ];
}

/** Two peer worker processes at default settings, started; graphile-worker's carry the crontab. */
async function peerWorkers(peer: PeerName, jobs: string[]): Promise<Child[]> {
  await cleanupPeer(peer, NS);
  await preparePeer(peer, NS);
  if (peer === 'bullmq') await createBullSchedulers(jobs, MINUTE, NS);
  const config: PeerConfig = peer === 'graphile-worker' ? { peer, ns: NS, cronJobs: jobs } : { peer, ns: NS };
  const children = await startChildren(
    'peer',
    Array.from({ length: INSTANCES }, () => config),
  );
  for (const child of children) child.send({ type: 'go' });
  await Promise.all(children.map((child) => child.waitFor('started')));
  return children;
}

async function peerStarts(children: Child[]): Promise<PeerStart[]> {
  for (const child of children) child.send({ type: 'collect' });
  const records = await Promise.all(children.map((child) => child.waitFor('records')));
  return records.flatMap((record) => record.starts as PeerStart[]);
}

/** Every system's minute pattern in one window: the first minute boundary after all are up. */
async function measureMinute(ctx: BenchContext): Promise<Row[]> {
  const jobs = Array.from({ length: JOBS }, (_, index) => `tick-${index}`);
  const clusters: Cluster[] = [];
  const peers: { peer: PeerName; children: Child[] }[] = [];
  try {
    for (const kind of ctx.kinds) clusters.push(await cronkeeperCluster(kind, 'w3m', MINUTE));
    const names: PeerName[] = [];
    if (ctx.peers && ctx.services.postgres) names.push('graphile-worker');
    if (ctx.peers && ctx.services.redis) names.push('bullmq');
    for (const peer of names) peers.push({ peer, children: await peerWorkers(peer, jobs) });
    const from = Math.ceil((Date.now() + 2_000) / 60_000) * 60_000;
    ctx.log(`W3 minute window at ${new Date(from).toISOString().slice(11, 19)} UTC`);
    await sleep(from - Date.now() + MINUTE_TAIL_MS);
    const what = `${MINUTE} × ${JOBS}, one slot, defaults`;
    const outcomes = new Map<string, { settings: string; outcome: Outcome }>();
    for (const cluster of clusters)
      outcomes.set(subjectOf(cluster.kind), {
        settings: await cronkeeperSettings(cluster.kind, { instances: INSTANCES }),
        outcome: outcomeOf(await cronkeeperStarts(cluster), from, from + 60_000, 60_000),
      });
    for (const { peer, children } of peers)
      outcomes.set(peer, {
        settings: `${peerSettings(peer, { processes: INSTANCES })}, ${peer === 'bullmq' ? 'job schedulers' : 'runner crontab'}`,
        outcome: outcomeOf(await peerStarts(children), from, from + 60_000, 60_000),
      });
    const peerP95 = [...outcomes].filter(([subject]) => !subject.startsWith('cronkeeper/'));
    return [...outcomes].flatMap(([subject, { settings, outcome }]) => {
      ctx.log(
        `W3 ${subject} minute: p50 ${outcome.latency.p50.toFixed(1)} p95 ${outcome.latency.p95.toFixed(1)} ms, dup ${outcome.duplicates}, miss ${outcome.misses}`,
      );
      const compared =
        subject.startsWith('cronkeeper/') && subject !== 'cronkeeper/memory' && peerP95.length > 0
          ? {
              target: `< ${peerP95.map(([peer]) => peer).join(' and ')} p95`,
              met: peerP95.every(([, peer]) => outcome.latency.p95 < peer.outcome.latency.p95),
              note: peerP95
                .map(([peer, { outcome: o }]) => `${peer} ${o.latency.p95.toFixed(0)} ms`)
                .join(', '),
            }
          : {};
      return rowsOf(subject, settings, what, outcome, compared);
    });
  } finally {
    await Promise.all([
      ...clusters.map((cluster) => cluster.close()),
      ...peers.map(async ({ peer, children }) => {
        await Promise.all(children.map((child) => child.stop()));
        await cleanupPeer(peer, NS);
      }),
    ]);
  }
}

export const w3: Workload = {
  id: 'W3',
  title: 'cron fire lag at default settings: 100 jobs across 2 instances',
  async run(ctx: BenchContext): Promise<Row[]> {
    const rows: Row[] = [];
    const windowS = ctx.quick ? 3 : 10;
    // --quick measures the stores side by side to stay within its minute (figures indicative only);
    // the full run measures them one after the other.
    const outcomes = ctx.quick
      ? await Promise.all(ctx.kinds.map((kind) => measureSecond(kind, windowS * 1_000)))
      : [];
    for (const [index, kind] of ctx.kinds.entries()) {
      const outcome = outcomes[index] ?? (await measureSecond(kind, windowS * 1_000));
      ctx.log(
        `W3 ${kind} second: p50 ${outcome.latency.p50.toFixed(1)} p95 ${outcome.latency.p95.toFixed(1)} max ${outcome.latency.max.toFixed(1)} ms, dup ${outcome.duplicates}, miss ${outcome.misses}`,
      );
      const settings = await cronkeeperSettings(kind, { instances: INSTANCES });
      rows.push(
        ...rowsOf(subjectOf(kind), settings, `${SECOND} × ${JOBS}, ${windowS} s`, outcome, {
          target: '≤ 50 ms',
          met: outcome.latency.p95 <= 50,
        }),
      );
    }
    // The minute window waits for a minute boundary: the full run only, in the background.
    if (!ctx.quick) ctx.background(() => measureMinute(ctx));
    return rows;
  },
};
