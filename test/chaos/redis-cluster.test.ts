import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateRedisCluster } from '../topologies/redis-cluster.js';
import type { Cluster as Processes } from './harness.js';
import { type FaultRecord, runScenario, type ScenarioResult, settings } from './scenario.js';

/**
 * The multi-process exactly-once scenario through `ioredis.Cluster` on a private Redis Cluster
 * (3 primaries, each with a replica), with the primary that holds the store's slot replaced in the
 * middle of a burst of firings. Two ways: `CLUSTER FAILOVER` (planned: the replica catches up
 * before it takes over, nothing acknowledged is lost) and SIGKILL (a crash: replication is
 * asynchronous, so writes the primary acknowledged but had not yet sent are lost).
 */

// Required (fails, never skips) when CRONKEEPER_TOPOLOGIES=1, as CI sets it.
const clusterAvailable = process.env.CRONKEEPER_REDIS_CLUSTER_AVAILABLE !== '0';

const { processes, cronJobs, leaseMs } = settings;
const durationMs = Math.max(settings.faultMs, 7_000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The hash tag of the scenario's namespace: the key whose slot the store lives in. */
const slotKey = (processes: Processes) => processes.options.namespace;

/** Wait until a firing burst is under way: every cron job fires on the second, so just after it. */
async function midBurst(): Promise<void> {
  await sleep(1_000 - (Date.now() % 1_000) + 30);
}

/** Executions begun per schedule slot (`job@slot`), from the processes' own reports. */
function executionsPerSlot(processes: Processes): Map<string, { runIds: string[]; at: number[] }> {
  const slots = new Map<string, { runIds: string[]; at: number[] }>();
  for (const start of processes.starts) {
    if (start.scheduledFor === null) continue;
    const key = `${start.job}@${new Date(start.scheduledFor).toISOString()}`;
    const entry = slots.get(key) ?? { runIds: [], at: [] };
    entry.runIds.push(start.runId);
    entry.at.push(start.at);
    slots.set(key, entry);
  }
  return slots;
}

function expectHistoryInvariants(result: ScenarioResult): void {
  const { report } = result;
  expect(report.violations, `see ${result.file}`).toEqual([]);
  expect(report.slotsMissed).toBe(0);
  expect(report.slotsDoubled).toBe(0);
  expect(result.drained, 'every run ended once the jobs were paused').toBe(true);
  expect(result.cluster.crashes).toEqual([]);
  expect(report.slotsExpected).toBeGreaterThan(cronJobs);
}

describe.skipIf(!clusterAvailable)(`reliability on Redis Cluster (${processes} processes)`, () => {
  let redis: PrivateRedisCluster;

  beforeAll(async () => {
    redis = await PrivateRedisCluster.start({ masters: 3 });
  }, 60_000);

  afterAll(async () => {
    await redis?.destroy();
  });

  it(
    'CLUSTER FAILOVER of the primary holding the store, mid-burst: every slot fires once and runs once, every run ends',
    async () => {
      const result = await runScenario({
        kind: 'redis',
        name: 'cluster-failover',
        url: redis.url,
        processes,
        cronJobs,
        leaseMs,
        durationMs,
        fault: async ({ cluster }): Promise<FaultRecord[]> => {
          await sleep(2_000);
          await midBurst();
          const at = Date.now();
          const moved = await redis.failover(slotKey(cluster));
          return [{ type: 'failover', at, endedAt: Date.now(), detail: moved }];
        },
      });
      expectHistoryInvariants(result);
      // A planned failover loses no acknowledged write, so no slot ran twice, in the history or
      // in the processes: each schedule slot was begun by exactly one execution.
      const doubled = [...executionsPerSlot(result.cluster)].filter(([, entry]) => entry.runIds.length > 1);
      expect(doubled).toEqual([]);
      const started = new Set(result.cluster.starts.map((start) => start.runId));
      const recorded = new Set(result.history.runs.map((run) => run.id));
      expect(
        [...started].filter((id) => !recorded.has(id)),
        'executions whose run was lost',
      ).toEqual([]);
      // The store moved on with the new primary: slots after the failover fired and ran.
      const fault = result.faults[0] as FaultRecord;
      expect(
        result.history.runs.some(
          (run) => run.status === 'succeeded' && run.createdAt.getTime() > fault.endedAt,
        ),
      ).toBe(true);
    },
    durationMs + 120_000,
  );

  it(
    'SIGKILL of the primary holding the store, mid-burst: the history keeps every slot once; an execution repeats only when its record was lost with the writes the replica never got',
    async () => {
      const result = await runScenario({
        kind: 'redis',
        name: 'cluster-kill',
        url: redis.url,
        processes,
        cronJobs,
        leaseMs,
        durationMs,
        fault: async ({ cluster }): Promise<FaultRecord[]> => {
          await sleep(2_000);
          await midBurst();
          const at = Date.now();
          const moved = await redis.killMaster(slotKey(cluster));
          return [{ type: 'kill-primary', at, endedAt: Date.now(), detail: moved }];
        },
      });
      expectHistoryInvariants(result);
      const fault = result.faults[0] as FaultRecord;
      const recorded = new Set(result.history.runs.map((run) => run.id));
      const lostRuns = new Set(
        result.cluster.starts.filter((start) => !recorded.has(start.runId)).map((s) => s.runId),
      );
      // An execution whose run is not in the history was begun before the crash: its claim (or the
      // run itself) was among the last writes, acknowledged and never replicated.
      for (const start of result.cluster.starts)
        if (lostRuns.has(start.runId)) expect(start.at).toBeLessThanOrEqual(fault.at);
      // A slot executed twice is exactly such a lost run executed again after the failover.
      const doubled = [...executionsPerSlot(result.cluster)].filter(([, entry]) => entry.runIds.length > 1);
      for (const [slot, entry] of doubled) {
        const lost = entry.runIds.filter((id) => lostRuns.has(id));
        expect(lost.length, `${slot}: ${entry.runIds.join(', ')}`).toBe(entry.runIds.length - 1);
      }
      console.log(
        `[cronkeeper] Redis Cluster SIGKILL failover: ${result.report.slotsExpected} slots, ` +
          `${doubled.length} executed twice, ${lostRuns.size} executions whose run record was lost, ` +
          `${result.report.staleRecoveries} stale recoveries, ` +
          `failover took ${fault.endedAt - fault.at} ms`,
      );
      expect(
        result.history.runs.some(
          (run) => run.status === 'succeeded' && run.createdAt.getTime() > fault.endedAt,
        ),
      ).toBe(true);
    },
    durationMs + 120_000,
  );
});
