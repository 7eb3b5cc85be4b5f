import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster, type ClusterOptions, Redis } from 'ioredis';
import { canListen, killTracked, spawnTracked, type TrackedChild, WaitAborted, waitFor } from './children.js';

const run = promisify(execFile);

/**
 * A Redis Cluster of the test's own: `masters` primaries with one replica each, every node a
 * private `redis-server` on a free loopback port with its files in a temporary directory, joined
 * with `redis-cli --cluster create`. Failover is what the tests do to it, so the node timeout is
 * short (a killed primary is replaced within about two seconds).
 */

/** How long a node may be unreachable before its replica takes over, ms (Redis default: 15 s). */
export const NODE_TIMEOUT_MS = 1_000;
/** Redis Cluster nodes talk to each other on their port plus this. */
const BUS_PORT_OFFSET = 10_000;

/** The ioredis Cluster options the tests (and docs/redis.md) use: failover-tolerant retries. */
export const CLUSTER_CLIENT_OPTIONS: ClusterOptions = {
  // Replicas lag: reads must go to the primary that just took the write.
  scaleReads: 'master',
  enableReadyCheck: true,
  // A killed primary is unreachable for NODE_TIMEOUT_MS plus an election before its replica takes
  // over: 100 ms apart, 50 redirections cover that with room to spare.
  retryDelayOnFailover: 100,
  retryDelayOnClusterDown: 100,
  retryDelayOnTryAgain: 100,
  maxRedirections: 50,
  slotsRefreshTimeout: 2_000,
  redisOptions: { maxRetriesPerRequest: 20 },
};

/** Why a private cluster cannot be started here, or null when it can. */
export function redisClusterUnavailable(): string | null {
  for (const binary of ['redis-server', 'redis-cli']) {
    const probe = spawnSync(binary, ['--version'], { encoding: 'utf8' });
    if (probe.status !== 0) return `${binary} is not installed`;
  }
  return null;
}

export interface ClusterNode {
  port: number;
  process: TrackedChild;
}

function isRunning(node: ClusterNode): boolean {
  return !node.process.ended();
}

/**
 * A port for a cluster node: free, with its cluster bus port (port + 10 000) free too, and both
 * below the range the kernel hands out to outgoing connections. An ephemeral port from the OS could
 * be taken by a client's connection before the node binds it, or be another node's bus port.
 */
async function clusterPort(taken: readonly number[]): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 12_000 + Math.floor(Math.random() * 10_000);
    if (taken.includes(port)) continue;
    if ((await canListen(port)) && (await canListen(port + BUS_PORT_OFFSET))) return port;
  }
  throw new Error('no free pair of ports for a Redis Cluster node between 12000 and 32000');
}

export class PrivateRedisCluster {
  readonly nodes: ClusterNode[] = [];

  private constructor(readonly dir: string) {}

  /** Start `masters` primaries and as many replicas; resolves once every node sees the cluster healthy. */
  static async start(options: { masters?: number } = {}): Promise<PrivateRedisCluster> {
    const masters = options.masters ?? 3;
    const cluster = new PrivateRedisCluster(await mkdtemp(join(tmpdir(), 'ck-redis-cluster-')));
    try {
      const ports: number[] = [];
      while (ports.length < masters * 2) ports.push(await clusterPort(ports));
      await Promise.all(ports.map((port) => cluster.#launch(port)));
      await run(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...ports.map((port) => `127.0.0.1:${port}`),
          '--cluster-replicas',
          '1',
          '--cluster-yes',
        ],
        { timeout: 30_000 },
      );
      await cluster.waitHealthy(20_000);
      return cluster;
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
  }

  /** `host:port` of every node, for a client's startup list. */
  get startupNodes(): { host: string; port: number }[] {
    return this.nodes.map((node) => ({ host: '127.0.0.1', port: node.port }));
  }

  /** A URL naming every node (`redis-cluster://127.0.0.1:p1,127.0.0.1:p2,…`), for child processes. */
  get url(): string {
    return `redis-cluster://${this.nodes.map((node) => `127.0.0.1:${node.port}`).join(',')}`;
  }

  /** A new ioredis Cluster client on this cluster; the caller quits it. */
  client(options: ClusterOptions = {}): Cluster {
    return new Cluster(this.startupNodes, { ...CLUSTER_CLIENT_OPTIONS, ...options });
  }

  async #launch(port: number): Promise<void> {
    const child = spawnTracked('redis-server', [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      `nodes-${port}.conf`,
      '--cluster-node-timeout',
      String(NODE_TIMEOUT_MS),
      // A replica may always take over, however long it was cut off (tests kill primaries on purpose).
      '--cluster-replica-validity-factor',
      '0',
      // Replicas sync at once instead of waiting 5 s for more replicas to join a diskless transfer.
      '--repl-diskless-sync-delay',
      '0',
      // Replicas report their offset every second (default 10 s): a replica appears in the slot
      // map, where clients look for it, only once its primary has heard it has data.
      '--repl-ping-replica-period',
      '1',
      '--save',
      '',
      '--appendonly',
      'no',
    ]);
    this.nodes.push({ port, process: child });
    await waitFor(
      `redis-server on port ${port} to accept connections`,
      () => {
        if (child.ended()) throw new WaitAborted(`redis-server exited:\n${child.output()}`);
        return child.output().includes('Ready to accept connections');
      },
      10_000,
    );
  }

  /** One command on one node, over a short-lived connection. */
  async command(port: number, ...args: string[]): Promise<unknown> {
    const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0 });
    redis.on('error', () => {});
    try {
      await redis.connect();
      return await redis.call(args[0] as string, ...args.slice(1));
    } finally {
      redis.disconnect();
    }
  }

  /** Live nodes by role, parsed from `CLUSTER NODES` as one node sees it. */
  async topology(): Promise<
    { port: number; id: string; role: 'master' | 'slave'; masterId: string | null }[]
  > {
    const live = this.nodes.filter((node) => isRunning(node));
    for (const node of live) {
      try {
        const text = String(await this.command(node.port, 'cluster', 'nodes'));
        return text
          .trim()
          .split('\n')
          .map((line) => line.split(' '))
          .filter((fields) => !(fields[2] ?? '').includes('fail'))
          .map((fields) => ({
            port: Number((fields[1] ?? '').split(':')[1]?.split('@')[0]),
            id: fields[0] as string,
            role: (fields[2] ?? '').includes('master') ? ('master' as const) : ('slave' as const),
            masterId: fields[3] === '-' ? null : (fields[3] ?? null),
          }));
      } catch {
        // That node is going away: ask the next one.
      }
    }
    throw new Error('no node of the cluster answers');
  }

  /**
   * Every live node reports `cluster_state:ok`, every replica is in sync with its primary, and
   * (with `replicas`) every node's slot map shows a replica beside each primary.
   */
  async waitHealthy(timeoutMs: number, options: { replicas?: boolean } = {}): Promise<void> {
    const replicas = options.replicas ?? true;
    await waitFor(
      'the cluster to be healthy',
      async () => {
        const live = this.nodes.filter((node) => isRunning(node));
        for (const node of live) {
          const info = String(await this.command(node.port, 'cluster', 'info'));
          if (!info.includes('cluster_state:ok')) return false;
          const replication = String(await this.command(node.port, 'info', 'replication'));
          if (replication.includes('role:slave') && !replication.includes('master_link_status:up'))
            return false;
          if (!replicas) continue;
          const slots = (await this.command(node.port, 'cluster', 'slots')) as unknown[][];
          if (slots.some((range) => range.length < 4)) return false;
        }
        return true;
      },
      timeoutMs,
      100,
    );
  }

  /** The port of the primary that serves `key`'s slot right now, and of its replicas. */
  async ownersOf(key: string): Promise<{ master: number; replicas: number[] }> {
    const live = this.nodes.find((node) => isRunning(node));
    if (!live) throw new Error('no node of the cluster is running');
    const slot = Number(await this.command(live.port, 'cluster', 'keyslot', key));
    const slots = (await this.command(live.port, 'cluster', 'slots')) as [
      number,
      number,
      ...[string, number][],
    ][];
    const range = slots.find(([from, to]) => slot >= from && slot <= to);
    if (!range) throw new Error(`no node serves slot ${slot}`);
    const [, , master, ...replicas] = range;
    if (!master) throw new Error(`slot ${slot} has no primary`);
    return { master: master[1], replicas: replicas.map((replica) => replica[1]) };
  }

  async #withReplica(key: string): Promise<{ master: number; replica: number }> {
    const { master, replicas } = await this.ownersOf(key);
    const replica = replicas[0];
    if (replica === undefined) throw new Error(`the primary of ${key} has no replica to fail over to`);
    return { master, replica };
  }

  /**
   * `CLUSTER FAILOVER` on the replica of `key`'s primary: the primary stops taking writes, the
   * replica catches up with it, then takes over. Resolves when the replica serves the slot.
   */
  async failover(key: string): Promise<{ from: number; to: number }> {
    const { master, replica } = await this.#withReplica(key);
    await this.command(replica, 'cluster', 'failover');
    // Done when the replica serves the slot and the old primary follows it, in sync: a failover
    // can then be repeated.
    await waitFor(
      `port ${replica} to serve ${key} with port ${master} as its replica`,
      async () => {
        const owners = await this.ownersOf(key);
        return owners.master === replica && owners.replicas.includes(master);
      },
      10_000,
    );
    await this.waitHealthy(10_000);
    return { from: master, to: replica };
  }

  /**
   * SIGKILL the primary of `key`'s slot: no shutdown, and whatever it had not yet sent its replica
   * is lost. Resolves when the replica has taken the slot over.
   */
  async killMaster(key: string): Promise<{ from: number; to: number }> {
    const { master, replica } = await this.#withReplica(key);
    const node = this.nodes.find((candidate) => candidate.port === master);
    if (!node) throw new Error(`port ${master} is not one of this cluster's nodes`);
    await killTracked(node.process);
    await waitFor(
      `port ${replica} to take over ${key}`,
      async () => (await this.ownersOf(key).catch(() => ({ master }))).master === replica,
      15_000,
      100,
    );
    await this.waitHealthy(10_000, { replicas: false });
    return { from: master, to: replica };
  }

  /**
   * Crash the primary of `key`'s slot with `work`'s writes acknowledged but never replicated, as
   * asynchronous replication allows: once everything earlier reached the replica (`WAIT`), the
   * replica is frozen (SIGSTOP) and its link dropped, `work` runs against the primary alone, the
   * primary is killed (SIGKILL), and the replica, thawed, takes over without those writes.
   */
  async crashPrimaryAfter(key: string, work: () => Promise<void>): Promise<{ from: number; to: number }> {
    const { master, replica } = await this.#withReplica(key);
    const frozen = this.nodes.find((node) => node.port === replica);
    if (!frozen) throw new Error(`port ${replica} is not one of this cluster's nodes`);
    await this.command(master, 'wait', '1', '5000');
    frozen.process.child.kill('SIGSTOP');
    try {
      await this.command(master, 'client', 'kill', 'type', 'replica');
      await work();
      const node = this.nodes.find((candidate) => candidate.port === master);
      if (node) await killTracked(node.process);
    } finally {
      frozen.process.child.kill('SIGCONT');
    }
    await waitFor(
      `port ${replica} to take over ${key}`,
      async () => (await this.ownersOf(key).catch(() => ({ master }))).master === replica,
      15_000,
      100,
    );
    await this.waitHealthy(10_000, { replicas: false });
    return { from: master, to: replica };
  }

  /** Kill every node and delete the cluster's files. */
  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((node) => killTracked(node.process)));
    await rm(this.dir, { recursive: true, force: true });
  }
}
