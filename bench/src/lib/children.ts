import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A message between the harness and a child; `type` says what it is. */
export type Message = { type: string } & Record<string, unknown>;

const CHILD_ENTRY = fileURLToPath(new URL('../child.ts', import.meta.url));

/** A child process speaking IPC: the harness sends commands and waits for typed replies. */
export class Child {
  readonly process: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly #inbox: Message[] = [];
  readonly #waiters: { type: string; resolve: (message: Message) => void }[] = [];
  #stderr = '';

  constructor(role: string, config: object) {
    // The child inherits this process's loader flags (TypeScript via tsx, the source condition).
    this.process = fork(CHILD_ENTRY, [role, JSON.stringify(config)], {
      // BENCH_CPU_PROF=<dir> writes a CPU profile of every child there, to find where time goes.
      execArgv: process.env.BENCH_CPU_PROF
        ? [...process.execArgv, '--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
        : process.execArgv,
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    this.process.stderr?.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-4000);
    });
    this.process.on('message', (message: Message) => {
      const index = this.#waiters.findIndex((waiter) => waiter.type === message.type);
      if (index >= 0) this.#waiters.splice(index, 1)[0]?.resolve(message);
      else this.#inbox.push(message);
    });
    this.exited = new Promise((resolve) => this.process.on('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  send(message: Message): void {
    this.process.send(message);
  }

  /** The next message of `type` (already received or to come); rejects if the child dies first. */
  waitFor(type: string, timeoutMs = 60_000): Promise<Message> {
    const index = this.#inbox.findIndex((message) => message.type === type);
    if (index >= 0) return Promise.resolve(this.#inbox.splice(index, 1)[0] as Message);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`child ${this.pid}: no "${type}" within ${timeoutMs} ms\n${this.#stderr}`)),
        timeoutMs,
      );
      const waiter = {
        type,
        resolve: (message: Message) => {
          clearTimeout(timer);
          resolve(message);
        },
      };
      this.#waiters.push(waiter);
      void this.exited.then((code) => {
        if (!this.#waiters.includes(waiter)) return;
        clearTimeout(timer);
        reject(new Error(`child ${this.pid} exited (${code}) before "${type}"\n${this.#stderr}`));
      });
    });
  }

  /** Ask the child to stop and wait for it; kill it if it does not exit in time. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    if (this.process.connected) this.send({ type: 'exit' });
    const timer = setTimeout(() => this.process.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Start `count` children of one role and wait until each says it is ready. */
export async function startChildren(role: string, configs: object[]): Promise<Child[]> {
  const children = configs.map((config) => new Child(role, config));
  await Promise.all(children.map((child) => child.waitFor('ready')));
  return children;
}
