/**
 * W1 throughput: N runs due now, two worker processes, a no-op executor. Runs per second from the
 * moment the workers are told to start to the last finish, with duplicates and misses counted
 * from what the executors saw. Peers run the same N jobs in the same invocation.
 */

import type { Scheduler } from '@cronkeeper/core';
import { type Child, startChildren } from '../lib/children.js';
import { benchScheduler, Recorder, type StartRecord } from '../lib/instance.js';
import type { BenchContext, Row, Workload } from '../lib/report.js';
import { subjectOf } from '../lib/report.js';
import { mapLimit, median, preciseNow, sleep } from '../lib/stats.js';
import { dropNamespace, openStore, type StoreKind } from '../lib/stores.js';
import { cleanupPeer, type PeerName, seedPeer } from '../peers/worker.js';

/** Runs each Cronkeeper worker may execute at once ("high concurrency" for a no-op executor). */
const WORKER_CONCURRENCY = 100;
const WORKERS = 2;
const LABEL = 'w1';
interface Trial {
  rate: number;
  duplicates: number;
  misses: number;
  /** Cronkeeper only: store calls per run, by method, summed over the workers. */
  calls?: Record<string, number>;
}

function tally(
  executed: readonly (string | number)[],
  expected: number,
): { duplicates: number; misses: number } {
  const seen = new Map<string | number, number>();
  for (const id of executed) seen.set(id, (seen.get(id) ?? 0) + 1);
  let duplicates = 0;
  for (const count of seen.values()) duplicates += count - 1;
  return { duplicates, misses: expected - seen.size };
}

/** Tell the workers to go, wait for `n` finishes (or a stall), collect what they saw. */
async function drive(
  children: Child[],
  n: number,
): Promise<{ t0: number; records: Record<string, unknown>[] }> {
  const t0 = preciseNow();
  for (const child of children) child.send({ type: 'go' });
  await Promise.all(children.map((child) => child.waitFor('started')));
  let done = 0;
  let lastProgress = preciseNow();
  while (done < n && preciseNow() - lastProgress < 10_000) {
    await sleep(50);
    for (const child of children) child.send({ type: 'poll' });
    const progress = await Promise.all(children.map((child) => child.waitFor('progress')));
    const total = progress.reduce((sum, message) => sum + Number(message.finished), 0);
    if (total > done) lastProgress = preciseNow();
    done = total;
  }
  for (const child of children) child.send({ type: 'collect' });
  const records = await Promise.all(children.map((child) => child.waitFor('records')));
  return { t0, records };
}

/**
 * Create `n` runs due now: manual runs of the no-op executor with `force`, which lets them run in
 * parallel (overlap `allow`) like a queue's jobs. Job-less, so no job row takes bookkeeping.
 */
async function scheduleRuns(scheduler: Scheduler, n: number): Promise<Set<string>> {
  const runs = await mapLimit(Array.from({ length: n }), 64, () =>
    scheduler.trigger({ executor: 'record', force: true }),
  );
  return new Set(runs.map((run) => run.id));
}

async function seedRuns(kind: StoreKind, n: number): Promise<Set<string>> {
  const opened = await openStore(kind, LABEL);
  try {
    return await scheduleRuns(benchScheduler(opened, new Recorder()), n);
  } finally {
    await opened.close();
  }
}

async function cronkeeperTrial(kind: StoreKind, n: number): Promise<Trial> {
  if (kind === 'memory') return memoryTrial(n);
  await dropNamespace(kind, LABEL);
  const ids = await seedRuns(kind, n);
  const children = await startChildren(
    'instance',
    Array.from({ length: WORKERS }, () => ({ kind, label: LABEL, concurrency: WORKER_CONCURRENCY })),
  );
  try {
    const { t0, records } = await drive(children, n);
    const executed = records.flatMap((record) => (record.starts as StartRecord[]).map(([id]) => id));
    const end = Math.max(...records.map((record) => Number(record.lastFinishAt)));
    const { duplicates } = tally(executed, n);
    const seen = new Set(executed);
    const misses = [...ids].filter((id) => !seen.has(id)).length;
    const calls: Record<string, number> = {};
    for (const record of records)
      for (const [name, count] of Object.entries(record.calls as Record<string, number>))
        calls[name] = (calls[name] ?? 0) + count / n;
    return { rate: (n / (end - t0)) * 1000, duplicates, misses, calls };
  } finally {
    await Promise.all(children.map((child) => child.stop()));
    await dropNamespace(kind, LABEL);
  }
}

/** The memory store lives in one process: one scheduler there does all the work. */
async function memoryTrial(n: number): Promise<Trial> {
  const opened = await openStore('memory', LABEL);
  const recorder = new Recorder();
  const scheduler = benchScheduler(opened, recorder, { concurrency: WORKER_CONCURRENCY });
  await scheduleRuns(scheduler, n);
  const t0 = preciseNow();
  await scheduler.start();
  const deadline = t0 + 60_000;
  while (recorder.finished < n && preciseNow() < deadline) await sleep(5);
  const rate = (n / (recorder.lastFinishAt - t0)) * 1000;
  await scheduler.stop({ grace: '1s' });
  const { duplicates, misses } = tally(
    recorder.starts.map(([id]) => id),
    n,
  );
  return { rate, duplicates, misses };
}

async function peerTrial(peer: PeerName, n: number): Promise<Trial> {
  await cleanupPeer(peer);
  await seedPeer(peer, n);
  const children = await startChildren(
    'peer',
    Array.from({ length: WORKERS }, () => ({ peer })),
  );
  try {
    const { t0, records } = await drive(children, n);
    const executed = records.flatMap((record) => record.executed as number[]);
    const end = Math.max(...records.map((record) => Number(record.lastFinishAt)));
    return { rate: (n / (end - t0)) * 1000, ...tally(executed, n) };
  } finally {
    await Promise.all(children.map((child) => child.stop()));
    await cleanupPeer(peer);
  }
}

export const w1: Workload = {
  id: 'W1',
  title: 'throughput: runs due now, 2 workers, no-op executor',
  async run(ctx: BenchContext): Promise<Row[]> {
    const n = ctx.quick ? 1_000 : 10_000;
    const subjects: { name: string; trial: () => Promise<Trial>; reps: number; n?: number }[] = [];
    for (const kind of ctx.kinds)
      subjects.push({ name: subjectOf(kind), trial: () => cronkeeperTrial(kind, n), reps: ctx.reps });
    if (ctx.services.postgres && ctx.peers) {
      subjects.push({
        name: 'graphile-worker',
        trial: () => peerTrial('graphile-worker', n),
        reps: ctx.reps,
      });
      // pg-boss is ~5× slower than the rest: one repetition of half the runs in the full run, none
      // with --quick, keeps each within its budget. It is a reference, not a target.
      if (!ctx.quick)
        subjects.push({ name: 'pg-boss', trial: () => peerTrial('pg-boss', n / 2), reps: 1, n: n / 2 });
    }
    if (ctx.services.redis && ctx.peers)
      subjects.push({ name: 'bullmq', trial: () => peerTrial('bullmq', n), reps: ctx.reps });

    const trials = new Map<string, Trial[]>();
    // Repetitions interleave the subjects, so drift in the shared machine's load hits all alike.
    for (let rep = 0; rep < ctx.reps; rep++) {
      for (const subject of subjects) {
        if (rep >= subject.reps) continue;
        const trial = await subject.trial();
        const calls = Object.entries(trial.calls ?? {})
          .map(([name, perRun]) => `${name} ${perRun.toFixed(2)}`)
          .join(', ');
        ctx.log(
          `W1 ${subject.name} #${rep + 1}: ${Math.round(trial.rate)} runs/s, dup ${trial.duplicates}, miss ${trial.misses}${calls ? `; store calls per run: ${calls}` : ''}`,
        );
        trials.set(subject.name, [...(trials.get(subject.name) ?? []), trial]);
      }
    }

    const rateOf = (name: string) => median((trials.get(name) ?? []).map((trial) => trial.rate));
    const rows: Row[] = [];
    const sizes = new Map(subjects.map((subject) => [subject.name, subject.n ?? n]));
    for (const [name, list] of trials) {
      const rates = list.map((trial) => trial.rate);
      const value = median(rates);
      const row: Row = {
        workload: 'W1',
        subject: name,
        metric: `throughput (${sizes.get(name)} runs)`,
        value,
        unit: 'runs/s',
        runs: rates,
      };
      const peer =
        name === 'cronkeeper/postgres' ? 'graphile-worker' : name === 'cronkeeper/redis' ? 'bullmq' : null;
      if (peer && trials.has(peer)) {
        const ratio = value / rateOf(peer);
        Object.assign(row, {
          target: `≥ 1.0× ${peer}`,
          met: ratio >= 1,
          note: `${ratio.toFixed(2)}× ${peer}`,
        });
      } else if (name === 'cronkeeper/memory') {
        Object.assign(row, { target: '≥ 20 000 runs/s', met: value >= 20_000 });
      }
      rows.push(row);
      const duplicates = list.reduce((sum, trial) => sum + trial.duplicates, 0);
      const misses = list.reduce((sum, trial) => sum + trial.misses, 0);
      rows.push({
        workload: 'W1',
        subject: name,
        metric: 'duplicates / misses (all reps)',
        value: duplicates + misses,
        unit: 'runs',
        target: '0 / 0',
        met: duplicates === 0 && misses === 0,
        note: `${duplicates} duplicates, ${misses} misses`,
      });
    }
    return rows;
  },
};
