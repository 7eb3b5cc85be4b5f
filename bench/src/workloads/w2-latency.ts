/**
 * W2 run-now latency at default settings: one idle worker; a client in the harness asks for a run
 * now every 200 ms; latency is that call → handler start, as both clocks are this machine's.
 * Cronkeeper: `trigger` from a scheduler that only writes; graphile-worker: `addJob`; BullMQ:
 * `queue.add`. Every system is measured side by side, their requests interleaved (each series
 * offset by a fraction of the spacing), so no two requests are in flight at once.
 */
import { type Child, startChildren } from '../lib/children.js';
import { Cluster } from '../lib/cluster.js';
import type { BenchContext, Row, Workload } from '../lib/report.js';
import { subjectOf } from '../lib/report.js';
import { cronkeeperSettings, peerSettings } from '../lib/settings.js';
import { latencyOf, preciseNow, sleep } from '../lib/stats.js';
import { openPeerClient, type PeerClient } from '../peers/client.js';
import { cleanupPeer, type PeerConfig, type PeerStart, preparePeer } from '../peers/worker.js';

const SPACING_MS = 200;

/** A system under test: ask for a run now (returns its key), and the handler starts seen so far. */
interface Target {
  subject: string;
  settings: string;
  /** The system each Cronkeeper store is compared with. */
  peer?: string;
  send(index: number): Promise<string | number>;
  starts(): Promise<Map<string | number, number>>;
  close(): Promise<void>;
}

async function cronkeeperTarget(kind: 'memory' | 'postgres' | 'redis'): Promise<Target> {
  const cluster = await Cluster.open(kind, 'w2', { instances: 1 });
  await cluster.start();
  return {
    subject: subjectOf(kind),
    settings: await cronkeeperSettings(kind, { instances: 1 }),
    ...(kind === 'postgres' ? { peer: 'graphile-worker' } : kind === 'redis' ? { peer: 'bullmq' } : {}),
    send: async () => (await cluster.client.trigger({ executor: 'record' })).id,
    starts: async () => new Map((await cluster.starts()).map(([id, at]) => [id, at])),
    close: () => cluster.close(),
  };
}

async function peerTarget(peer: 'graphile-worker' | 'bullmq'): Promise<Target> {
  await cleanupPeer(peer);
  await preparePeer(peer);
  const [child] = (await startChildren('peer', [{ peer } satisfies PeerConfig])) as [Child];
  child.send({ type: 'go' });
  await child.waitFor('started');
  const client: PeerClient = await openPeerClient(peer);
  return {
    subject: peer,
    settings: peerSettings(peer, { processes: 1 }),
    send: async (index) => {
      await client.add(index);
      return index;
    },
    starts: async () => {
      child.send({ type: 'collect' });
      const starts = (await child.waitFor('records')).starts as PeerStart[];
      return new Map(starts.map(([key, at]) => [key, at]));
    },
    close: async () => {
      await client.close();
      await child.stop();
      await cleanupPeer(peer);
    },
  };
}

/** Send `count` requests `SPACING_MS` apart, after `offsetMs`; latency of each, in ms. */
async function series(target: Target, count: number, offsetMs: number): Promise<number[]> {
  await sleep(offsetMs);
  const sent = new Map<string | number, number>();
  for (let index = 0; index < count; index++) {
    const at = preciseNow();
    sent.set(await target.send(index), at);
    await sleep(Math.max(0, SPACING_MS - (preciseNow() - at)));
  }
  await sleep(500);
  const starts = await target.starts();
  // A request that never started counts as infinitely late rather than vanishing from the figures.
  return [...sent].map(([key, at]) => (starts.get(key) ?? Number.POSITIVE_INFINITY) - at);
}

export const w2: Workload = {
  id: 'W2',
  title: 'run-now latency at default settings: request → handler start, beside graphile-worker and BullMQ',
  async run(ctx: BenchContext): Promise<Row[]> {
    const count = ctx.quick ? 10 : 50;
    const targets: Target[] = [];
    try {
      for (const kind of ctx.kinds) targets.push(await cronkeeperTarget(kind));
      if (ctx.peers && ctx.services.postgres) targets.push(await peerTarget('graphile-worker'));
      if (ctx.peers && ctx.services.redis) targets.push(await peerTarget('bullmq'));
      // Let the idle workers settle into their sleep, as a real idle worker would be.
      await sleep(500);
      const latencies = await Promise.all(
        targets.map((target, index) => series(target, count, (index * SPACING_MS) / targets.length)),
      );
      const p50 = new Map(
        targets.map((target, index) => [target.subject, latencyOf(latencies[index] ?? []).p50]),
      );
      return targets.flatMap((target, index) => {
        const latency = latencyOf(latencies[index] ?? []);
        ctx.log(
          `W2 ${target.subject}: p50 ${latency.p50.toFixed(2)} ms, p95 ${latency.p95.toFixed(2)} ms, max ${latency.max.toFixed(2)} ms`,
        );
        const peerP50 = target.peer ? p50.get(target.peer) : undefined;
        const compared =
          target.peer && peerP50 !== undefined
            ? {
                target: `≤ ${target.peer} p50`,
                met: latency.p50 <= peerP50,
                note: `${target.peer} p50 ${peerP50.toFixed(2)} ms in the same run`,
              }
            : {};
        const base = { workload: 'W2', subject: target.subject, settings: target.settings, unit: 'ms' };
        return [
          {
            ...base,
            metric: `p50 (${count} requests, ${SPACING_MS} ms apart)`,
            value: latency.p50,
            ...compared,
          },
          { ...base, metric: 'p95', value: latency.p95 },
          { ...base, metric: 'max', value: latency.max },
        ];
      });
    } finally {
      await Promise.all(targets.map((target) => target.close()));
    }
  },
};
