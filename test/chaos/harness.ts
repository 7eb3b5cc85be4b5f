import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monotonicNow } from './ledger.js';
import { connectionName, type StoreKind } from './stores.js';
import type { HarnessMessage, WorkerMessage } from './worker.js';

/**
 * Starts and controls N scheduler processes on one store namespace. Each process runs the
 * TypeScript sources through tsx with the workspace's source condition, like the test runner.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
const READY_TIMEOUT_MS = 60_000;

export interface ClusterOptions {
  kind: StoreKind;
  namespace: string;
  /** Server URL; defaults to the suite's shared server of `kind`. */
  url?: string;
  leaseMs: number;
  /** Directory of the executor ledger: one file per instance. */
  ledgerDir: string;
  pollMs?: number;
  concurrency?: number;
}

/** One process slot: restarted processes keep the slot and get a new instance id. */
export interface WorkerSlot {
  index: number;
  generation: number;
  instanceId: string;
  offsetMs: number;
  child: ChildProcess | null;
  exited: Promise<void>;
  /**
   * How the harness ended it: a SIGKILL must end it by that signal, a graceful stop with exit
   * code 0. Any other exit (or none asked for) is a crash.
   */
  expectExit: 'kill' | 'stop' | null;
}

export class Cluster {
  readonly slots: WorkerSlot[] = [];
  /** Clock offset of every instance id that ever ran, to read its timestamps in true time. */
  readonly offsets = new Map<string, number>();
  /** Run id → instance that recovered it (its clock wrote the run's finish time). */
  readonly recoveredBy = new Map<string, string>();
  readonly logs: Array<{ instanceId: string; level: string; message: string; at: number }> = [];
  readonly stopTimes: number[] = [];
  /** Every execution a process began: run id, job, slot (schedule runs), true epoch ms. */
  readonly starts: Array<{
    instanceId: string;
    runId: string;
    job: string | null;
    scheduledFor: number | null;
    at: number;
  }> = [];
  /** Processes that exited without being told to, or failed a graceful stop: a crash. */
  readonly crashes: string[] = [];
  /** Instance id → `process.hrtime.bigint()` when its process was seen to exit (ledger's clock). */
  readonly exits = new Map<string, bigint>();
  /** Starts still under way (restarts run beside the workload). */
  #starting: Promise<void>[] = [];

  constructor(readonly options: ClusterOptions) {}

  /** Start `count` processes (offsets per process, ms; default 0) and wait until all are ready. */
  async start(count: number, offsets: number[] = []): Promise<void> {
    await Promise.all(Array.from({ length: count }, (_, index) => this.#spawn(index, offsets[index] ?? 0)));
  }

  /** Connection-name prefix of every worker process (not the test's own driver connections). */
  get workerConnectionPrefix(): string {
    return connectionName(this.options.namespace, 'w');
  }

  #spawn(index: number, offsetMs: number): Promise<void> {
    const previous = this.slots[index];
    const generation = (previous?.generation ?? -1) + 1;
    const instanceId = `w${index}-g${generation}`;
    this.offsets.set(instanceId, offsetMs);
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@cronkeeper/source', WORKER], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: {
        ...process.env,
        CHAOS_STORE: this.options.kind,
        CHAOS_NAMESPACE: this.options.namespace,
        CHAOS_INSTANCE: instanceId,
        CHAOS_CONNECTION_NAME: `${this.workerConnectionPrefix}${index}`,
        CHAOS_CLOCK_OFFSET_MS: String(offsetMs),
        CHAOS_LEASE_MS: String(this.options.leaseMs),
        CHAOS_POLL_MS: String(this.options.pollMs ?? 500),
        CHAOS_CONCURRENCY: String(this.options.concurrency ?? 20),
        CHAOS_LEDGER: join(this.options.ledgerDir, `${instanceId}.ndjson`),
        ...(this.options.url ? { CHAOS_URL: this.options.url } : {}),
      },
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const slot: WorkerSlot = { index, generation, instanceId, offsetMs, child, exited, expectExit: null };
    child.once('exit', (code, signal) => {
      this.exits.set(instanceId, monotonicNow());
      const asked =
        (slot.expectExit === 'kill' && signal === 'SIGKILL') || (slot.expectExit === 'stop' && code === 0);
      if (!asked)
        this.crashes.push(
          `${instanceId} exited (code ${code}, signal ${signal})${slot.expectExit ? ` when asked to ${slot.expectExit}` : ''}`,
        );
    });
    this.slots[index] = slot;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${instanceId} not ready after ${READY_TIMEOUT_MS} ms`)),
        READY_TIMEOUT_MS,
      );
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${instanceId} exited before it was ready (code ${code}, signal ${signal})`));
      });
      child.on('message', (message: WorkerMessage) => {
        if (message.type === 'ready') {
          clearTimeout(timer);
          resolve();
        } else if (message.type === 'recovered') this.recoveredBy.set(message.runId, instanceId);
        else if (message.type === 'log')
          this.logs.push({ instanceId, level: message.level, message: message.message, at: Date.now() });
        else if (message.type === 'stopped') this.stopTimes.push(message.stopMs);
        else if (message.type === 'started') {
          const { runId, job, scheduledFor, at } = message;
          this.starts.push({ instanceId, runId, job, scheduledFor, at });
        }
      });
    });
  }

  /** SIGKILL the process in `index` (no shutdown, no lease release) and wait until it is gone. */
  async kill(index: number): Promise<void> {
    const slot = this.#slot(index);
    slot.expectExit = 'kill';
    slot.child?.kill('SIGKILL');
    await slot.exited;
    slot.child = null;
  }

  /** Start a new process in `index` (after a kill or a stop), keeping its clock offset. */
  restart(index: number): Promise<void> {
    const started = this.#spawn(index, this.#slot(index).offsetMs);
    this.#starting.push(started);
    return started;
  }

  /** Graceful `scheduler.stop({ grace })` in one process; resolves when it has exited. */
  async stop(index: number, graceMs: number): Promise<void> {
    const slot = this.#slot(index);
    if (!slot.child) return;
    slot.expectExit = 'stop';
    slot.child.send({ type: 'stop', graceMs } satisfies HarnessMessage);
    await slot.exited;
    slot.child = null;
  }

  /** Stop every live process gracefully. */
  async stopAll(graceMs = 5_000): Promise<void> {
    // A process still starting would not hear the stop yet: let restarts finish first.
    await Promise.all(this.#starting);
    await Promise.all(this.slots.map((slot) => this.stop(slot.index, graceMs)));
  }

  /** Last resort in `afterAll`: kill whatever is still alive. */
  async destroy(): Promise<void> {
    await Promise.allSettled(this.#starting);
    await Promise.all(this.slots.filter((slot) => slot.child).map((slot) => this.kill(slot.index)));
  }

  instanceOf(index: number): string {
    return this.#slot(index).instanceId;
  }

  indexOf(instanceId: string): number | null {
    const slot = this.slots.find((candidate) => candidate.instanceId === instanceId && candidate.child);
    return slot ? slot.index : null;
  }

  #slot(index: number): WorkerSlot {
    const slot = this.slots[index];
    if (!slot) throw new Error(`no worker in slot ${index}`);
    return slot;
  }
}
