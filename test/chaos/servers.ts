import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { StoreKind } from './stores.js';

/**
 * Private database servers for the faults that stop a server (SIGSTOP/SIGCONT): a shared server
 * must never be paused, so these tests start their own on a free port in a temp dir.
 */

export interface PrivateServer {
  url: string;
  /** Pause every process of the server (SIGSTOP), as a hung VM or a long GC pause would. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function which(binary: string): string | null {
  try {
    return execFileSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

function postgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
    for (const version of versions)
      if (existsSync(join(root, version, 'bin', 'initdb'))) return join(root, version, 'bin');
  }
  const initdb = which('initdb');
  return initdb ? initdb.slice(0, -'/initdb'.length) : null;
}

/** Why a private server of `kind` cannot be started here, or null when it can. */
export function privateServerUnavailable(kind: StoreKind): string | null {
  if (kind === 'redis') return which('redis-server') ? null : 'redis-server is not installed';
  return postgresBin() ? null : 'PostgreSQL server binaries (initdb, pg_ctl) are not installed';
}

function signalTree(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // A backend that exited meanwhile: nothing to pause or resume.
    }
  }
}

function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

async function startRedis(): Promise<PrivateServer> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      execFileSync('redis-cli', ['-p', String(port), 'ping'], { stdio: 'ignore' });
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const pid = child.pid as number;
  return {
    url,
    pause: () => signalTree([pid], 'SIGSTOP'),
    resume: () => signalTree([pid], 'SIGCONT'),
    stop: async () => {
      signalTree([pid], 'SIGCONT');
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function startPostgres(): Promise<PrivateServer> {
  const bin = postgresBin() as string;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ck-chaos-pg-'));
  // PostgreSQL refuses to run as root: run its tools as the postgres user when we are root.
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const run = (tool: string, args: string[]) =>
    execFileSync(
      asRoot ? 'runuser' : join(bin, tool),
      asRoot ? ['-u', 'postgres', '--', join(bin, tool), ...args] : args,
      { stdio: 'ignore', cwd: tmpdir() },
    );
  const data = join(dir, 'data');
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`;
  run('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start']);
  const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    // The postmaster first, so it forks no new backend while the others are being stopped.
    pause: () => signalTree([postmaster, ...childrenOf(postmaster)], 'SIGSTOP'),
    resume: () => signalTree([...childrenOf(postmaster), postmaster], 'SIGCONT'),
    stop: async () => {
      signalTree([...childrenOf(postmaster), postmaster], 'SIGCONT');
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Start a private server of `kind` (check `privateServerUnavailable` first). */
export function startPrivateServer(kind: StoreKind): Promise<PrivateServer> {
  return kind === 'redis' ? startRedis() : startPostgres();
}
