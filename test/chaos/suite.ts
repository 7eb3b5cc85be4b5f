import { ConflictError, createScheduler, type Store } from '@cronkeeper/core';
import { describe, expect, it } from 'vitest';
import { chaosExecutors } from './executors.js';
import { busiestWorker, killConnections, sleep } from './faults.js';
import {
  type FaultRecord,
  FIRE_LAG_MS,
  LONG,
  runScenario,
  type ScenarioResult,
  settings,
} from './scenario.js';
import { privateServerUnavailable, startPrivateServer } from './servers.js';
import type { StoreKind } from './stores.js';
import { LONG_TARGET } from './workload.js';

/**
 * The reliability suite for one store kind: a calm multi-process run, then one test per fault.
 * Each asserts the invariants from the stored history, plus what a user relies on for that fault.
 */

const { processes, cronJobs, leaseMs } = settings;
// Faults stop this long before the workload ends, so their aftermath settles inside the window.
const SETTLE_MS = leaseMs * 2 + 2_000;
// "Within about one lease": the lease lapses at most one lease after the last heartbeat, and the
// sweep runs every half lease; the rest is slack for a contended 2-core machine.
const KILL_RECOVERY_BOUND_MS = leaseMs * 2 + 2_000;
const timeout = (workloadMs: number) => workloadMs + 120_000;

function expectInvariants(result: ScenarioResult): void {
  const { report } = result;
  expect(report.violations, `see ${result.file}`).toEqual([]);
  expect(report.slotsMissed).toBe(0);
  expect(report.slotsDoubled).toBe(0);
  // From the executor ledger, with no allowance: no two runs of an exclusive job executed at once.
  expect(report.exclusiveOverlaps, `see ${result.file}`).toBe(0);
  expect(report.worstExclusiveOverlapMs).toBe(0);
  expect(result.drained, 'every run ended once the jobs were paused').toBe(true);
  // Includes a graceful stop that failed (exit code 1).
  expect(result.cluster.crashes).toEqual([]);
  expect(result.unexpectedErrors, 'error lines no fault or planned failure explains').toEqual([]);
  expect(result.unexplainedStale, 'live runs taken over').toEqual([]);
  // The run did real work: more than one slot per job came due, failing runs were retried, and
  // the ledger compared many hand-overs between runs of one exclusive job.
  expect(report.slotsExpected).toBeGreaterThan(cronJobs);
  expect(report.retries).toBeGreaterThan(0);
  expect(report.exclusiveHandOvers).toBeGreaterThan(cronJobs);
}

/** With every clock right and the store reachable, every slot fired within the lag the pause edge allows. */
function expectSlotsOnTime(result: ScenarioResult): void {
  expect(result.worstSlotLagMs, 'latest slot firing (ms after its due time)').toBeLessThan(FIRE_LAG_MS);
}

/** Repeat `inject` from `firstAt` ms into the workload until the settle margin (once unless long). */
async function repeat(
  until: number,
  firstAtMs: number,
  everyMs: number,
  inject: () => Promise<FaultRecord>,
): Promise<FaultRecord[]> {
  const faults: FaultRecord[] = [];
  await sleep(firstAtMs);
  do {
    faults.push(await inject());
    if (!LONG) break;
    await sleep(everyMs);
  } while (Date.now() < until - SETTLE_MS);
  return faults;
}

/** Wait until run `id` is running (claimed by a worker), up to 5 s. */
async function waitRunning(store: Store, id: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while ((await store.getRun(id))?.status !== 'running') {
    if (Date.now() > deadline) throw new Error(`run ${id} did not start within 5 s`);
    await sleep(20);
  }
}

export function chaosSuite(kind: StoreKind, available: boolean): void {
  const base = { kind, processes, cronJobs, leaseMs };

  describe.skipIf(!available)(`reliability on ${kind} (${processes} processes)`, () => {
    it(
      `${cronJobs} jobs every second, triggers, one-offs, retries and cancels: each slot fires once, every run ends`,
      async () => {
        const result = await runScenario({ ...base, name: 'baseline', durationMs: settings.baselineMs });
        expectInvariants(result);
        expect(result.report.byTrigger.manual).toBeGreaterThan(0);
        expect(result.report.byTrigger.once).toBeGreaterThan(0);
        expect(result.report.staleRecoveries).toBe(0);
        expectSlotsOnTime(result);
      },
      timeout(settings.baselineMs),
    );

    it(
      'SIGKILL of a process mid-run: another recovers its runs within about one lease; no slot lost or doubled',
      async () => {
        const result = await runScenario({
          ...base,
          name: 'sigkill',
          durationMs: settings.faultMs,
          fault: ({ cluster, store, until }) =>
            repeat(until, 1_500, 8_000, async () => {
              const index = await busiestWorker(cluster, store);
              const instanceId = cluster.instanceOf(index);
              const at = Date.now();
              await cluster.kill(index);
              // The process comes back as a new instance, as an orchestrator would restart it.
              await sleep(500);
              void cluster.restart(index);
              return { type: 'kill', at, endedAt: at, instanceId };
            }),
        });
        expectInvariants(result);
        expect(result.killRecoveries.length, 'the killed process held running runs').toBeGreaterThan(0);
        expect(Math.max(...result.killRecoveries)).toBeLessThan(KILL_RECOVERY_BOUND_MS);
        expectSlotsOnTime(result);
      },
      timeout(settings.faultMs),
    );

    let connectionsResult: ScenarioResult | null = null;
    it(
      `${kind === 'redis' ? 'CLIENT KILL' : 'pg_terminate_backend'} of the schedulers' connections: they reconnect and catch up`,
      async () => {
        const result = await runScenario({
          ...base,
          name: 'connections',
          durationMs: settings.faultMs,
          fault: ({ cluster, kind, url, until }) =>
            repeat(until, 1_500, 5_000, async () => {
              const at = Date.now();
              const killed = await killConnections(kind, url, cluster.workerConnectionPrefix);
              return { type: 'connections', at, endedAt: at, detail: { killed } };
            }),
        });
        connectionsResult = result;
        expectInvariants(result);
        for (const fault of result.faults) expect(fault.detail?.killed).toBeGreaterThan(0);
        // Every slot due during the blip fired soon after it, not a lease or a poll cycle later.
        expect(Math.max(...result.catchUps)).toBeLessThan(leaseMs * 2 + 3_000);
      },
      timeout(settings.faultMs),
    );

    it('the dropped connections are reported in the log, never silent', (ctx) => {
      // ioredis sees CLIENT KILL as a clean close: it reconnects and replays queued commands
      // without an error for the store to report, so there is no log line to look for.
      ctx.skip(
        kind === 'redis',
        'Redis: a killed client reconnects without an error event, so no log line is expected',
      );
      const result = connectionsResult;
      if (!result) throw new Error('the connection scenario above did not complete');
      for (const fault of result.faults) {
        const logged = result.cluster.logs.some(
          (line) => line.at >= fault.at && /connection|terminat|EPIPE|ECONNRESET/i.test(line.message),
        );
        expect(logged, 'a log line about the lost connections').toBe(true);
      }
    });

    const noServer = privateServerUnavailable(kind);
    it(
      `the ${kind} server paused (SIGSTOP) longer than a lease: runs it outlasted given up, recovered and retried, missed slots caught up`,
      async (ctx) => {
        ctx.skip(noServer !== null, `no private ${kind} server: ${noServer}`);
        const server = await startPrivateServer(kind);
        try {
          const pauseMs = Math.round(leaseMs * 1.3);
          const long: string[] = [];
          const result = await runScenario({
            ...base,
            name: 'server-pause',
            url: server.url,
            durationMs: settings.faultMs + pauseMs,
            fault: ({ store, until }) =>
              repeat(until, 1_500, 10_000, async () => {
                // A 6 s run of an exclusive job is executing when the server stops.
                const web = createScheduler({ store, executors: chaosExecutors(), logger: false });
                const run = await web.trigger({ job: LONG_TARGET }).catch((error: unknown) => {
                  if (error instanceof ConflictError) return null; // the previous one is still on
                  throw error;
                });
                if (run) {
                  long.push(run.id);
                  await waitRunning(store, run.id);
                }
                const at = Date.now();
                server.pause();
                await sleep(pauseMs);
                server.resume();
                return { type: 'pause', at, endedAt: Date.now(), detail: { pauseMs, longRun: run?.id } };
              }),
          });
          expectInvariants(result);
          expect(Math.max(...result.catchUps)).toBeLessThan(leaseMs * 2 + 5_000);
          // Its worker could not renew through the pause: it gave the run up (0.9 lease), another
          // instance recovered it once the server was back, and its retry ran, after it.
          expect(long.length).toBeGreaterThan(0);
          for (const id of long) {
            const run = result.history.runs.find((candidate) => candidate.id === id);
            expect(run, `long run ${id}`).toMatchObject({ status: 'failed', error: { code: 'stale' } });
            const retry = result.history.runs.find((candidate) => candidate.parentRunId === id);
            expect(retry?.status, `retry of ${id}`).toBe('succeeded');
          }
        } finally {
          await server.stop();
        }
      },
      timeout(settings.faultMs + 60_000),
    );

    it(
      'instances with skewed clocks (one far ahead of the lease, one slightly behind): no slot lost or doubled, no live run taken over',
      async () => {
        const ahead = Number(process.env.CRONKEEPER_CHAOS_SKEW_AHEAD_MS ?? leaseMs + 1_500);
        const behind = Number(process.env.CRONKEEPER_CHAOS_SKEW_BEHIND_MS ?? 600);
        const offsets = Array.from({ length: processes }, (_, index) =>
          index === 1 ? ahead : index === 2 ? -behind : 0,
        );
        const result = await runScenario({
          ...base,
          name: 'clock-skew',
          durationMs: settings.faultMs,
          offsets,
        });
        expectInvariants(result);
        // The instance ahead sees every lease as lapsed; it must still take none over.
        expect(result.report.staleRecoveries).toBe(0);
      },
      timeout(settings.faultMs),
    );

    it(
      'stop() during a burst: the stopping process ends or aborts its own runs, leaving none to recovery',
      async () => {
        const graceMs = 500;
        const result = await runScenario({
          ...base,
          name: 'stop-burst',
          durationMs: settings.faultMs,
          fault: ({ cluster, store, until }) =>
            repeat(until, 1_500, 8_000, async () => {
              const web = createScheduler({ store, executors: chaosExecutors(), logger: false });
              const soon = new Date(Date.now() + 500);
              await Promise.all([
                ...Array.from({ length: 15 }, () =>
                  web.trigger({ executor: 'slow', params: { ms: 1_500 }, force: true }),
                ),
                // Job-less one-offs of one executor queue behind each other: a few only.
                ...Array.from({ length: 3 }, () =>
                  web.schedule({ executor: 'slow', params: { ms: 500 }, at: soon }),
                ),
              ]);
              await sleep(700);
              const index = await busiestWorker(cluster, store);
              const instanceId = cluster.instanceOf(index);
              const at = Date.now();
              await cluster.stop(index, graceMs);
              const endedAt = Date.now();
              void cluster.restart(index);
              return { type: 'stop', at, endedAt, instanceId, detail: { graceMs, stopMs: endedAt - at } };
            }),
        });
        expectInvariants(result);
        expect(result.report.staleRecoveries).toBe(0);
        expectSlotsOnTime(result);
        for (const fault of result.faults) {
          const own = result.history.runs.filter((run) => run.workerId === fault.instanceId);
          expect(own.filter((run) => run.error?.code === 'shutdown').length).toBeGreaterThan(0);
          // grace, then the abort grace (5 s) for executors that ignore their signal, then slack.
          expect(fault.endedAt - fault.at).toBeLessThan(graceMs + 5_000 + 3_000);
        }
      },
      timeout(settings.faultMs),
    );
  });
}
