import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createScheduler, type Run, type Store } from '@cronkeeper/core';
import { chaosExecutors } from './executors.js';
import { sleep } from './faults.js';
import { Cluster } from './harness.js';
import { checkInvariants, type History, type InvariantReport, readHistory } from './invariants.js';
import { readLedger } from './ledger.js';
import {
  connectionName,
  dropNamespace,
  openStore,
  type StoreKind,
  uniqueNamespace,
  urlOf,
} from './stores.js';
import { Workload } from './workload.js';

/**
 * One chaos scenario from start to verdict: start N processes on a fresh namespace, create the
 * jobs, drive the workload while a fault runs, pause the jobs, let the processes drain, stop them,
 * then read the history through a fresh store and check the invariants. Figures go to
 * test-results/chaos/<store>-<scenario>.json.
 */

const env = process.env;
/** The long version: longer, more processes, faults repeated (figures in docs/reliability.md). */
export const LONG = env.CRONKEEPER_CHAOS_LONG === '1';

export const settings = {
  processes: Number(env.CRONKEEPER_CHAOS_PROCESSES ?? (LONG ? 4 : 3)),
  /** The baseline's workload time; the PostgreSQL issue asks for about 10 s. */
  baselineMs: Number(env.CRONKEEPER_CHAOS_SECONDS ?? (LONG ? 120 : 10)) * 1000,
  /** Workload time of each fault scenario. */
  faultMs: Number(env.CRONKEEPER_CHAOS_FAULT_SECONDS ?? (LONG ? 60 : 6)) * 1000,
  cronJobs: Number(env.CRONKEEPER_CHAOS_JOBS ?? 50),
  /** Short, so a dead worker's run is recovered within the test's time. */
  leaseMs: Number(env.CRONKEEPER_CHAOS_LEASE_MS ?? 2500),
  seed: Number(env.CRONKEEPER_CHAOS_SEED ?? Date.now() % 100_000),
};

// How late a slot may fire and still be expected before the pause: a worker wakes at the due
// instant (nextWakeAt) and otherwise polls every 500 ms, so a slot fires within one poll; the
// second 500 ms is for a loaded 2-core machine (the figures' worstSlotLagMs shows what was seen).
// Only slots due this close to the pause AND not yet fired when the pause read the job may be
// unfired (see Workload.slotWindows).
export const FIRE_LAG_MS = 1_000;
/** The furthest ahead of its slot a run is created (the loop's lead, capped; see docs/concepts.md). */
const FIRE_AHEAD_MS = 250;
// Store errors a connection fault or a server pause may cause: until the clients reconnect, which
// they do within a lease (every store call is retried by the loop's next tick).
const FAULT_ERRORS_TAIL = (leaseMs: number) => leaseMs;
// Error-level lines a healthy cluster writes: the workload's planned executor failures.
const PLANNED_FAILURE = /planned failure of attempt|always fails/;
const SHUTDOWN = /the scheduler stopped \(grace of/;

export interface FaultRecord {
  type: 'kill' | 'connections' | 'pause' | 'stop' | 'failover' | 'kill-primary';
  /** Epoch ms the fault began and ended (a kill ends when it begins). */
  at: number;
  endedAt: number;
  /** Instance killed or stopped. */
  instanceId?: string;
  detail?: Record<string, unknown>;
}

export interface FaultContext {
  cluster: Cluster;
  /** The driver's store (the test's own connections, never killed by a fault). */
  store: Store;
  kind: StoreKind;
  url: string;
  /** Epoch ms the workload ends. */
  until: number;
}

export interface ScenarioSpec {
  kind: StoreKind;
  name: string;
  processes: number;
  durationMs: number;
  cronJobs: number;
  leaseMs: number;
  /** Clock offset of each process, ms. */
  offsets?: number[];
  /** Server to use instead of the shared one (a private server for the pause fault). */
  url?: string;
  fault?: (context: FaultContext) => Promise<FaultRecord[]>;
}

export interface ScenarioResult {
  report: InvariantReport;
  history: History;
  faults: FaultRecord[];
  cluster: Cluster;
  /** Per kill: ms from the SIGKILL until each of the dead worker's runs was recovered. */
  killRecoveries: number[];
  /** Per connection or server fault: ms from its end until every slot it delayed had fired. */
  catchUps: number[];
  /** How late (ms) the latest slot fired, by the firing instance's clock. */
  worstSlotLagMs: number;
  /** Error-level log lines no fault or planned failure explains. */
  unexpectedErrors: string[];
  /** Runs recovered as stale that no fault explains (a live run taken over). */
  unexplainedStale: string[];
  drained: boolean;
  file: string;
}

const trueMs = (date: Date, offset = 0) => date.getTime() - offset;

function killRecoveries(history: History, cluster: Cluster, faults: FaultRecord[]): number[] {
  const latencies: number[] = [];
  for (const fault of faults) {
    if (fault.type !== 'kill') continue;
    for (const run of history.runs) {
      if (run.workerId !== fault.instanceId || run.error?.code !== 'stale' || !run.finishedAt) continue;
      const recoverer = cluster.recoveredBy.get(run.id);
      latencies.push(trueMs(run.finishedAt, recoverer ? cluster.offsets.get(recoverer) : 0) - fault.at);
    }
  }
  return latencies;
}

function catchUps(history: History, faults: FaultRecord[]): number[] {
  // How late the slots due during the fault (and just after it) fired, counted from its end.
  return faults
    .filter((fault) => fault.type === 'connections' || fault.type === 'pause')
    .map((fault) => {
      let worst = 0;
      for (const run of history.runs) {
        if (run.trigger !== 'schedule' || !run.scheduledFor) continue;
        const slot = run.scheduledFor.getTime();
        if (slot < fault.at || slot > fault.endedAt + 2_000) continue;
        worst = Math.max(worst, run.createdAt.getTime() - Math.max(slot, fault.endedAt));
      }
      return worst;
    });
}

/**
 * Error lines that nothing explains: not a planned failure of the workload, not a run aborted by
 * a graceful stop of its own instance (or the final stop), not a store error during a connection
 * fault or server pause (up to a lease after it ended).
 */
function unexpectedErrors(
  cluster: Cluster,
  faults: FaultRecord[],
  leaseMs: number,
  finalStopAt: number,
): string[] {
  const stopped = new Set(faults.filter((fault) => fault.type === 'stop').map((fault) => fault.instanceId));
  return cluster.logs
    .filter((line) => line.level === 'error')
    .filter((line) => {
      if (PLANNED_FAILURE.test(line.message)) return false;
      if (SHUTDOWN.test(line.message) && (stopped.has(line.instanceId) || line.at >= finalStopAt))
        return false;
      return !faults.some(
        (fault) =>
          (fault.type === 'connections' || fault.type === 'pause') &&
          line.at >= fault.at &&
          line.at <= fault.endedAt + FAULT_ERRORS_TAIL(leaseMs),
      );
    })
    .map((line) => `${new Date(line.at).toISOString()} ${line.instanceId}: ${line.message}`);
}

/**
 * Stale recoveries that no fault explains. A run may be recovered as stale when its process was
 * SIGKILLed, or when it was running during a connection fault or a server pause (a finish sent on
 * a dropped connection, a lease its worker gave up while the server was stopped). A graceful stop
 * must leave none, and with every process alive and reachable (baseline, clock skew) there must be
 * none: that would be a live run taken over.
 */
function unexplainedStale(
  history: History,
  cluster: Cluster,
  faults: FaultRecord[],
  leaseMs: number,
): string[] {
  const trueStart = (run: Run) =>
    (run.startedAt?.getTime() ?? 0) - (run.workerId ? (cluster.offsets.get(run.workerId) ?? 0) : 0);
  return history.runs
    .filter((run) => run.error?.code === 'stale')
    .filter(
      (run) =>
        !faults.some((fault) => {
          if (fault.type === 'kill') return run.workerId === fault.instanceId;
          if (fault.type === 'connections' || fault.type === 'pause')
            return trueStart(run) <= fault.endedAt + leaseMs;
          return false;
        }),
    )
    .map(
      (run) =>
        `${run.jobName ?? run.executor}: run ${run.id} of ${run.workerId}, started ${run.startedAt?.toISOString()}, recovered as stale: ${run.error?.message}`,
    );
}

/** How late (ms) the latest slot was fired, by the firing instance's clock. */
function slotLag(runs: Run[]): number {
  let worst = 0;
  for (const run of runs)
    if (run.trigger === 'schedule' && run.scheduledFor)
      worst = Math.max(worst, run.createdAt.getTime() - run.scheduledFor.getTime());
  return worst;
}

async function waitDrained(store: Store, timeoutMs: number, trace: string[]): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { pending, running } = await store.countActive({});
    if (pending === 0 && running === 0) return true;
    if (trace.length < 40) {
      const { items } = await store.listRuns({ statuses: ['pending', 'running'], limit: 5 });
      trace.push(
        `${new Date().toISOString()} pending ${pending} running ${running}: ${items.map((run) => `${run.jobName ?? run.executor}/${run.trigger}/${run.status}/${run.workerId}/runAt ${run.runAt.toISOString()}`).join(', ')}`,
      );
    }
    await sleep(250);
  }
  return false;
}

export async function runScenario(spec: ScenarioSpec): Promise<ScenarioResult> {
  const url = spec.url ?? urlOf(spec.kind);
  const namespace = uniqueNamespace(spec.kind, spec.name);
  const driverConnection = await openStore(spec.kind, {
    url,
    namespace,
    name: connectionName(namespace, 'driver'),
  });
  const driver = createScheduler({
    store: driverConnection.store,
    executors: chaosExecutors(),
    logger: false,
    maintenanceJobs: false,
  });
  const ledgerDir = fileURLToPath(
    new URL(
      `../../test-results/chaos/ledgers/${spec.kind}-${spec.name}${LONG ? '-long' : ''}/`,
      import.meta.url,
    ),
  );
  rmSync(ledgerDir, { recursive: true, force: true });
  mkdirSync(ledgerDir, { recursive: true });
  const cluster = new Cluster({ kind: spec.kind, namespace, leaseMs: spec.leaseMs, url, ledgerDir });
  const began = Date.now();
  try {
    // The namespace is created before the processes race to initialise it too.
    await driverConnection.store.init();
    await cluster.start(spec.processes, spec.offsets);
    const startupMs = Date.now() - began;
    const workload = new Workload(driver, { cronJobs: spec.cronJobs, seed: settings.seed });
    await workload.createJobs();
    const until = Date.now() + spec.durationMs;
    const [faults] = await Promise.all([
      spec.fault?.({ cluster, store: driverConnection.store, kind: spec.kind, url, until }) ?? [],
      workload.drive(until),
    ]);
    const workloadEnded = Date.now();
    await workload.pauseAll();
    const drainTrace: string[] = [];
    const drained = await waitDrained(driverConnection.store, spec.leaseMs * 3 + 15_000, drainTrace);
    const drainMs = Date.now() - workloadEnded;
    const finalStopAt = Date.now();
    await cluster.stopAll();

    // Verdict from the stored history alone, through a store instance that took no part.
    const reader = await openStore(spec.kind, { url, namespace, name: connectionName(namespace, 'reader') });
    const history = await readHistory(reader.store).finally(() => reader.close());
    // A slot may be fired up to FIRE_AHEAD_MS before it comes (by the firing instance's clock),
    // so a pause that lands in that moment leaves that slot's run, as docs/concepts.md says.
    const maxAhead = Math.max(0, ...(spec.offsets ?? [])) + FIRE_AHEAD_MS;
    const ledger = readLedger(ledgerDir);
    const report = checkInvariants(history, workload.slotWindows(FIRE_LAG_MS, maxAhead), {
      ...ledger,
      exits: cluster.exits,
    });
    const result: ScenarioResult = {
      report,
      history,
      faults,
      cluster,
      killRecoveries: killRecoveries(history, cluster, faults),
      catchUps: catchUps(history, faults),
      worstSlotLagMs: slotLag(history.runs),
      unexpectedErrors: unexpectedErrors(cluster, faults, spec.leaseMs, finalStopAt),
      unexplainedStale: unexplainedStale(history, cluster, faults, spec.leaseMs),
      drained,
      file: '',
    };
    result.file = writeFigures(spec, result, {
      startupMs,
      drainMs,
      drainTrace,
      totalMs: Date.now() - began,
      workload: workload.counts,
      worstSlotLagMs: result.worstSlotLagMs,
    });
    return result;
  } finally {
    await cluster.destroy();
    await driverConnection.close();
    await dropNamespace(spec.kind, namespace, url);
  }
}

function writeFigures(spec: ScenarioSpec, result: ScenarioResult, extra: Record<string, unknown>): string {
  const dir = fileURLToPath(new URL('../../test-results/chaos/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const file = `${dir}${spec.kind}-${spec.name}${LONG ? '-long' : ''}.json`;
  const { cluster } = result;
  const figures = {
    store: spec.kind,
    scenario: spec.name,
    date: new Date().toISOString(),
    node: process.version,
    cpus: availableParallelism(),
    long: LONG,
    seed: settings.seed,
    processes: spec.processes,
    clockOffsetsMs: spec.offsets ?? [],
    workloadMs: spec.durationMs,
    cronJobs: spec.cronJobs,
    leaseMs: spec.leaseMs,
    ...extra,
    invariants: result.report,
    drained: result.drained,
    faults: result.faults,
    killRecoveriesMs: result.killRecoveries,
    worstKillRecoveryMs: result.killRecoveries.length ? Math.max(...result.killRecoveries) : null,
    catchUpsMs: result.catchUps,
    gracefulStopsMs: cluster.stopTimes,
    crashes: cluster.crashes,
    unexplainedStale: result.unexplainedStale,
    logged: {
      warn: cluster.logs.filter((line) => line.level === 'warn').length,
      error: cluster.logs.filter((line) => line.level === 'error').length,
      unexpectedErrors: result.unexpectedErrors,
      sample: cluster.logs
        .filter((line) => !PLANNED_FAILURE.test(line.message))
        .slice(0, 15)
        .map((line) => `${line.instanceId} ${line.level}: ${line.message}`),
    },
  };
  writeFileSync(file, `${JSON.stringify(figures, null, 2)}\n`);
  return file;
}
