/**
 * W1 throughput: N runs due now, two worker processes, a no-op executor, at concurrency 10 and at
 * 100 per process for every system. Runs per second from the moment the workers are told to start
 * to the last finish, with duplicates and misses counted from what the executors saw. Peers run
 * the same N jobs in the same invocation; a ratio is only taken between rows of equal settings.
 */

import type { Scheduler } from '@cronkeeper/core';
import { type Child, startChildren } from '../lib/children.js';
import { benchScheduler, Recorder, type StartRecord } from '../lib/instance.js';
import type { BenchContext, Row, Workload } from '../lib/report.js';
import { subjectOf } from '../lib/report.js';
import { cpuBetween, processCpuMs, type ServerCpu, serverProcessesCpu } from '../lib/server-cpu.js';
import { cronkeeperSettings, peerSettings } from '../lib/settings.js';
import { mapLimit, median, preciseNow, sleep } from '../lib/stats.js';
import { dropNamespace, openStore, type StoreKind } from '../lib/stores.js';
import { cleanupPeer, type PeerConfig, type PeerName, type PeerStart, seedPeer } from '../peers/worker.js';

/** Concurrency per worker process, the same for every system: a modest and a high setting. */
const CONCURRENCIES = [10, 100] as const;
const WORKERS = 2;
const LABEL = 'w1';
interface Trial {
  rate: number;
  duplicates: number;
  misses: number;
  /** Cronkeeper only: store calls per run, by method, summed over the workers. */
  calls?: Record<string, number>;
  /** CPU µs per run from start to the last finish: the workers' processes and the server's. */
  cpu: { workers: number | null; server: number | null };
}

/** The server process(es) a system's runs cost CPU in. */
function serverOf(system: StoreKind | PeerName): ServerCpu | null {
  if (system === 'redis' || system === 'bullmq') return serverProcessesCpu('redis-server');
  if (system === 'memory') return null;
  return serverProcessesCpu('postgres');
}

function workersCpuMs(children: Child[]): number | null {
  let total = 0;
  for (const child of children) {
    const ms = processCpuMs(child.pid);
    if (ms === null) return null;
    total += ms;
  }
  return total;
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
  server: ServerCpu | null,
): Promise<{ t0: number; records: Record<string, unknown>[]; cpu: Trial['cpu'] }> {
  const workersBefore = workersCpuMs(children);
  const serverBefore = (await server?.read()) ?? null;
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
  // Read before collecting, which costs the workers CPU of its own; the 50 ms polls are counted.
  const workersAfter = workersCpuMs(children);
  const serverAfter = (await server?.read()) ?? null;
  const perRun = (ms: number | null) => (ms === null ? null : (ms * 1000) / n);
  const cpu = {
    workers: perRun(workersBefore === null || workersAfter === null ? null : workersAfter - workersBefore),
    server: perRun(cpuBetween(serverBefore, serverAfter)),
  };
  for (const child of children) child.send({ type: 'collect' });
  const records = await Promise.all(children.map((child) => child.waitFor('records')));
  return { t0, records, cpu };
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

async function cronkeeperTrial(kind: StoreKind, n: number, concurrency: number): Promise<Trial> {
  if (kind === 'memory') return memoryTrial(n, concurrency);
  await dropNamespace(kind, LABEL);
  const ids = await seedRuns(kind, n);
  const children = await startChildren(
    'instance',
    Array.from({ length: WORKERS }, () => ({ kind, label: LABEL, concurrency })),
  );
  try {
    const { t0, records, cpu } = await drive(children, n, serverOf(kind));
    const executed = records.flatMap((record) => (record.starts as StartRecord[]).map(([id]) => id));
    const end = Math.max(...records.map((record) => Number(record.lastFinishAt)));
    const { duplicates } = tally(executed, n);
    const seen = new Set(executed);
    const misses = [...ids].filter((id) => !seen.has(id)).length;
    const calls: Record<string, number> = {};
    for (const record of records)
      for (const [name, count] of Object.entries(record.calls as Record<string, number>))
        calls[name] = (calls[name] ?? 0) + count / n;
    return { rate: (n / (end - t0)) * 1000, duplicates, misses, calls, cpu };
  } finally {
    await Promise.all(children.map((child) => child.stop()));
    await dropNamespace(kind, LABEL);
  }
}

/** The memory store lives in one process: WORKERS schedulers there share it. */
async function memoryTrial(n: number, concurrency: number): Promise<Trial> {
  const opened = await openStore('memory', LABEL);
  const recorders = Array.from({ length: WORKERS }, () => new Recorder());
  const schedulers = recorders.map((recorder) => benchScheduler(opened, recorder, { concurrency }));
  await scheduleRuns(benchScheduler(opened, new Recorder()), n);
  const t0 = preciseNow();
  await Promise.all(schedulers.map((scheduler) => scheduler.start()));
  const finished = () => recorders.reduce((sum, recorder) => sum + recorder.finished, 0);
  const deadline = t0 + 60_000;
  while (finished() < n && preciseNow() < deadline) await sleep(5);
  const end = Math.max(...recorders.map((recorder) => recorder.lastFinishAt));
  await Promise.all(schedulers.map((scheduler) => scheduler.stop({ grace: '1s' })));
  const executed = recorders.flatMap((recorder) => recorder.starts.map(([id]) => id));
  // One process runs the workers and the store: its CPU is not the workers' alone.
  return { rate: (n / (end - t0)) * 1000, ...tally(executed, n), cpu: { workers: null, server: null } };
}

async function peerTrial(peer: PeerName, n: number, concurrency: number): Promise<Trial> {
  await cleanupPeer(peer);
  await seedPeer(peer, n);
  const children = await startChildren(
    'peer',
    Array.from({ length: WORKERS }, (): PeerConfig => ({ peer, concurrency })),
  );
  try {
    const { t0, records, cpu } = await drive(children, n, serverOf(peer));
    const executed = records.flatMap((record) => (record.starts as PeerStart[]).map(([i]) => i));
    const end = Math.max(...records.map((record) => Number(record.lastFinishAt)));
    return { rate: (n / (end - t0)) * 1000, ...tally(executed, n), cpu };
  } finally {
    await Promise.all(children.map((child) => child.stop()));
    await cleanupPeer(peer);
  }
}

interface Subject {
  name: string;
  concurrency: number;
  settings: string;
  /** Jobs per trial: pg-boss gets fewer, as its polling bounds it far below the others. */
  n: number;
  trial: () => Promise<Trial>;
}

/**
 * CPU per run of the workers and the server together (medians over the trials): on a machine the
 * workers and the server share, this sum is what bounds the rate, so it says why a ratio is what
 * it is. Null where it cannot be read (the memory store has no server of its own).
 */
function cpuRow(subject: Subject, trials: readonly Trial[]): Row | null {
  const readings = trials.filter(
    (trial): trial is Trial & { cpu: { workers: number; server: number } } =>
      trial.cpu.workers !== null && trial.cpu.server !== null,
  );
  if (readings.length === 0) return null;
  const workers = median(readings.map((trial) => trial.cpu.workers));
  const server = median(readings.map((trial) => trial.cpu.server));
  return {
    workload: 'W1',
    subject: subject.name,
    settings: `concurrency ${subject.concurrency}`,
    metric: 'CPU per run: workers + server',
    value: median(readings.map((trial) => trial.cpu.workers + trial.cpu.server)),
    unit: 'µs',
    runs: readings.map((trial) => trial.cpu.workers + trial.cpu.server),
    note: `workers ${Math.round(workers)} µs, server ${Math.round(server)} µs`,
  };
}

/** The peer each Cronkeeper store is compared with, at the same settings. */
const PEER_OF: Record<string, string> = {
  'cronkeeper/postgres': 'graphile-worker',
  'cronkeeper/redis': 'bullmq',
};

export const w1: Workload = {
  id: 'W1',
  title: `throughput: runs due now, ${WORKERS} workers, no-op executor, concurrency ${CONCURRENCIES.join(' and ')} for every system`,
  async run(ctx: BenchContext): Promise<Row[]> {
    const n = ctx.quick ? 1_000 : 10_000;
    const subjects: Subject[] = [];
    // --quick measures concurrency 10 only, to stay within its minute.
    for (const concurrency of ctx.quick ? CONCURRENCIES.slice(0, 1) : CONCURRENCIES) {
      for (const kind of ctx.kinds)
        subjects.push({
          name: subjectOf(kind),
          concurrency,
          settings: await cronkeeperSettings(kind, { concurrency, instances: WORKERS }),
          n,
          trial: () => cronkeeperTrial(kind, n, concurrency),
        });
      const peers: PeerName[] = [];
      if (ctx.services.postgres && ctx.peers) peers.push('graphile-worker', 'pg-boss');
      if (ctx.services.redis && ctx.peers) peers.push('bullmq');
      for (const peer of peers) {
        // pg-boss drains 2 × batch jobs per 0.5 s poll: enough jobs for about 5 s of it.
        const jobs = peer === 'pg-boss' ? Math.min(n, 20 * concurrency) : n;
        subjects.push({
          name: peer,
          concurrency,
          settings: peerSettings(peer, { concurrency, processes: WORKERS }),
          n: jobs,
          trial: () => peerTrial(peer, jobs, concurrency),
        });
      }
    }

    const trials = new Map<Subject, Trial[]>(subjects.map((subject) => [subject, []]));
    // Repetitions interleave the subjects, so drift in the shared machine's load hits all alike.
    for (let rep = 0; rep < ctx.w1Reps; rep++) {
      for (const subject of subjects) {
        const trial = await subject.trial();
        const calls = Object.entries(trial.calls ?? {})
          .map(([name, perRun]) => `${name} ${perRun.toFixed(2)}`)
          .join(', ');
        const micros = (value: number | null) => (value === null ? '?' : `${Math.round(value)} µs`);
        const cpu = `CPU per run: workers ${micros(trial.cpu.workers)}, server ${micros(trial.cpu.server)}`;
        ctx.log(
          `W1 ${subject.name} c${subject.concurrency} #${rep + 1}: ${Math.round(trial.rate)} runs/s, dup ${trial.duplicates}, miss ${trial.misses}; ${cpu}${calls ? `; store calls per run: ${calls}` : ''}`,
        );
        trials.get(subject)?.push(trial);
      }
    }

    const rateOf = (name: string, concurrency: number) => {
      const peer = subjects.find((subject) => subject.name === name && subject.concurrency === concurrency);
      return peer ? median((trials.get(peer) ?? []).map((trial) => trial.rate)) : Number.NaN;
    };
    const rows: Row[] = [];
    for (const subject of subjects) {
      const list = trials.get(subject) ?? [];
      const rates = list.map((trial) => trial.rate);
      const value = median(rates);
      const row: Row = {
        workload: 'W1',
        subject: subject.name,
        settings: subject.settings,
        metric: `throughput, concurrency ${subject.concurrency} (${subject.n} runs)`,
        value,
        unit: 'runs/s',
        runs: rates,
      };
      const peer = PEER_OF[subject.name];
      const peerRate = peer ? rateOf(peer, subject.concurrency) : Number.NaN;
      if (peer && !Number.isNaN(peerRate)) {
        const ratio = value / peerRate;
        Object.assign(row, {
          target: `≥ 1.0× ${peer} at concurrency ${subject.concurrency}`,
          met: ratio >= 1,
          note: `${ratio.toFixed(2)}× ${peer} (same settings, same run)`,
        });
      }
      rows.push(row);
      const cpu = cpuRow(subject, list);
      if (cpu) rows.push(cpu);
      const duplicates = list.reduce((sum, trial) => sum + trial.duplicates, 0);
      const misses = list.reduce((sum, trial) => sum + trial.misses, 0);
      rows.push({
        workload: 'W1',
        subject: subject.name,
        settings: `concurrency ${subject.concurrency}`,
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
