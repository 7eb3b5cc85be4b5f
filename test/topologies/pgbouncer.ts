import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, killTracked, spawnTracked, type TrackedChild, WaitAborted, waitFor } from './children.js';

/**
 * A PgBouncer of the test's own in front of the test PostgreSQL: a private `pgbouncer` process on a
 * free loopback port, its configuration in a temporary directory, in session or transaction
 * pooling mode. It trusts every client (like the test server) and forwards any database name.
 */

export type PoolMode = 'session' | 'transaction';

/** The pgbouncer binary: on PATH, or where Debian installs it (`/usr/sbin` is often not on PATH). */
export function findPgbouncer(): string | null {
  for (const candidate of [
    'pgbouncer',
    '/usr/sbin/pgbouncer',
    '/usr/local/sbin/pgbouncer',
    '/usr/local/bin/pgbouncer',
  ])
    if (spawnSync(candidate, ['--version'], { stdio: 'ignore' }).status === 0) return candidate;
  return null;
}

/** The version the binary reports, e.g. `1.18.0`. */
export function pgbouncerVersion(): string | null {
  const binary = findPgbouncer();
  if (!binary) return null;
  const output = spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout ?? '';
  return /PgBouncer (\S+)/.exec(output)?.[1] ?? null;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1', () => done(true));
  });
}

export class PrivatePgbouncer {
  private constructor(
    readonly mode: PoolMode,
    readonly port: number,
    readonly dir: string,
    private readonly process: TrackedChild,
    private readonly target: URL,
  ) {}

  /**
   * Start PgBouncer in `mode` in front of `serverUrl` (a `postgres://user@host:port/db` URL with
   * trust authentication). `poolSize` server connections per database and user at most.
   */
  static async start(options: {
    mode: PoolMode;
    serverUrl: string;
    poolSize?: number;
  }): Promise<PrivatePgbouncer> {
    const binary = findPgbouncer();
    if (!binary) throw new Error('pgbouncer is not installed (Debian: apt-get install pgbouncer)');
    const target = new URL(options.serverUrl);
    const user = decodeURIComponent(target.username || 'postgres');
    const dir = await mkdtemp(join(tmpdir(), 'ck-pgbouncer-'));
    const port = await freePort();
    const config = [
      '[databases]',
      // Any database name the client asks for, on the test server.
      `* = host=${target.hostname} port=${target.port || 5432}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'users.txt')}`,
      `pool_mode = ${options.mode}`,
      `default_pool_size = ${options.poolSize ?? 10}`,
      'max_client_conn = 500',
      // node-postgres sends these at connect; PgBouncer tracks application_name itself.
      'ignore_startup_parameters = extra_float_digits,options',
      'log_connections = 0',
      'log_disconnections = 0',
    ].join('\n');
    await writeFile(join(dir, 'pgbouncer.ini'), `${config}\n`);
    await writeFile(join(dir, 'users.txt'), `"${user}" ""\n`);
    // PgBouncer refuses to run as root: when we are root, it drops to the postgres user (-u),
    // which must be able to read its files.
    const asRoot = userInfo().uid === 0;
    if (asRoot) {
      await chmod(dir, 0o755);
      await chmod(join(dir, 'pgbouncer.ini'), 0o644);
      await chmod(join(dir, 'users.txt'), 0o644);
    }
    const child = spawnTracked(binary, [...(asRoot ? ['-u', 'postgres'] : []), join(dir, 'pgbouncer.ini')]);
    const bouncer = new PrivatePgbouncer(options.mode, port, dir, child, target);
    try {
      await waitFor(
        `pgbouncer (${options.mode} mode) on port ${port}`,
        async () => {
          if (child.ended()) throw new WaitAborted(`pgbouncer exited:\n${child.output()}`);
          return accepts(port);
        },
        10_000,
      );
    } catch (error) {
      await bouncer.stop();
      throw error;
    }
    return bouncer;
  }

  /** The URL of `database` through this PgBouncer (default: the server URL's database). */
  url(database?: string): string {
    const url = new URL(this.target.href);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    if (database) url.pathname = `/${database}`;
    return url.href;
  }

  /** What PgBouncer logged so far. */
  output(): string {
    return this.process.output();
  }

  async stop(): Promise<void> {
    await killTracked(this.process);
    await rm(this.dir, { recursive: true, force: true });
  }
}
