import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Whether tests that start their own `redis-server` run in this process: test/services.setup.ts
 * looked for the binary once per test run (required when CRONKEEPER_REDIS_URL is set).
 */
export const redisServerAvailable: boolean = process.env.CRONKEEPER_REDIS_SERVER_AVAILABLE !== '0';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port assigned'));
      });
    });
  });
}

/**
 * A redis-server of the test's own, on a free ephemeral port with its data in a temporary
 * directory, so a test may flush, kill or restart it without touching the shared server.
 */
export class PrivateRedis {
  #process: ChildProcess | null = null;

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly persistence: string[],
  ) {}

  /**
   * Start a server. RDB snapshots stay off; `appendonly` turns AOF on, with `appendfsync`
   * (default `everysec`, as in Redis).
   */
  static async start(options: {
    appendonly: boolean;
    appendfsync?: 'always' | 'everysec';
  }): Promise<PrivateRedis> {
    const dir = await mkdtemp(join(tmpdir(), 'ck-redis-'));
    const persistence = ['--save', '', '--appendonly', options.appendonly ? 'yes' : 'no'];
    if (options.appendfsync) persistence.push('--appendfsync', options.appendfsync);
    const server = new PrivateRedis(await freePort(), dir, persistence);
    await server.launch();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Spawn the server (again, after `shutdown`) on the same port and directory; resolves once it accepts connections. */
  async launch(): Promise<void> {
    if (this.#process) throw new Error('the server is already running');
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, ...this.persistence],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.#process = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with code ${code}:\n${output}`));
      });
    });
  }

  /** `redis-cli shutdown` (or `shutdown nosave`), then wait for the process to exit. */
  async shutdown(mode: 'save' | 'nosave'): Promise<void> {
    const child = this.#process;
    if (!child) throw new Error('the server is not running');
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await run('redis-cli', ['-p', String(this.port), 'shutdown', ...(mode === 'nosave' ? ['nosave'] : [])]);
    await exited;
    this.#process = null;
  }

  /** Crash the server (SIGKILL: no shutdown, nothing flushed beyond what fsync already wrote). */
  async kill(): Promise<void> {
    const child = this.#process;
    if (!child) throw new Error('the server is not running');
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
    this.#process = null;
  }

  /** Stop the server if it runs (SIGKILL: nothing of it is needed any more) and delete its directory. */
  async destroy(): Promise<void> {
    const child = this.#process;
    this.#process = null;
    if (child && child.exitCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
