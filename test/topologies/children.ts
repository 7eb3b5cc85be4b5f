import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { createServer } from 'node:net';

/**
 * Server processes started by the topology tests (Redis Cluster nodes, PgBouncer). Every child is
 * tracked here and killed with SIGKILL when the test process exits, however it exits (a failed
 * assertion, an uncaught error, vitest terminating the worker), so no server outlives its test.
 */

const alive = new Set<ChildProcess>();

function killAll(): void {
  for (const child of alive) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
  alive.clear();
}

let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      // Re-raise with the default handler, so the process still ends the way it was asked to.
      process.kill(process.pid, signal);
    });
  }
}

/** A started server process and its output so far (for error messages). */
export interface TrackedChild {
  child: ChildProcess;
  output(): string;
  /** Whether the process is gone (exited, killed, or never started). */
  ended(): boolean;
  /** Resolves when the process has exited (at once if it already has). */
  exited(): Promise<void>;
}

/** Spawn `command`, tracked for cleanup; stdout and stderr are kept for error messages. */
export function spawnTracked(command: string, args: string[], options: SpawnOptions = {}): TrackedChild {
  hookExit();
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  alive.add(child);
  let output = '';
  let ended = false;
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      ended = true;
      alive.delete(child);
      resolve();
    });
    // A binary that is missing never starts: report it through `output`, `ended` and `exited`.
    child.once('error', (error) => {
      ended = true;
      output += `\n${command}: ${error.message}`;
      alive.delete(child);
      resolve();
    });
  });
  return { child, output: () => output, ended: () => ended, exited: () => exit };
}

/** SIGKILL `tracked` (if still running) and wait until it is gone. */
export async function killTracked(tracked: TrackedChild): Promise<void> {
  if (!tracked.ended()) tracked.child.kill('SIGKILL');
  await tracked.exited();
}

/** A TCP port nobody listens on right now, on loopback. */
export function freePort(): Promise<number> {
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

/** Whether a listener can bind `port` on loopback right now. */
export function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Thrown by a `waitFor` check when waiting longer cannot help (the process died). */
export class WaitAborted extends Error {}

/**
 * Poll `check` every `everyMs` until it is true; throws naming `what` after `timeoutMs`. Errors of
 * the check count as "not yet", except `WaitAborted`, which ends the wait at once.
 */
export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  everyMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      if (error instanceof WaitAborted) throw error;
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    await sleep(everyMs);
  }
}
