import { closeSync, existsSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutorDefinition } from '@cronkeeper/core';

/**
 * The executor ledger: what the executors actually did, as opposed to what the store recorded.
 * Each worker process appends one line when an executor starts and one when it settles, with the
 * run id, the instance and process, and a reading of `process.hrtime.bigint()`.
 *
 * Why that clock: it is libuv's `uv_hrtime`, which reads CLOCK_MONOTONIC on Linux (and
 * `mach_absolute_time` on macOS, `QueryPerformanceCounter` on Windows): one system-wide monotonic
 * clock, counted from boot, the same in every process on the machine and never stepped. A reading
 * in one process can be compared with a reading in another, unlike `Date.now()` (stepped and
 * slewed by NTP, and deliberately skewed in the clock-skew scenario) or
 * `performance.timeOrigin + performance.now()` (anchored on a wall-clock reading taken when each
 * process started). `ledger-clock.test.ts` checks the comparison across processes.
 *
 * Lines are written with `writeSync` on a file opened for appending, so a line is in the kernel's
 * hands before the executor runs: a SIGKILL afterwards cannot lose it.
 */

export type LedgerEvent = 'start' | 'stop';

export interface LedgerLine {
  event: LedgerEvent;
  runId: string;
  executor: string;
  instanceId: string;
  pid: number;
  /** `process.hrtime.bigint()` at the event, in ns, as a decimal string. */
  at: string;
  /** On `stop`: how the executor settled. */
  outcome?: 'resolved' | 'rejected';
}

/** One execution as the ledger shows it, times in ns of the shared monotonic clock. */
export interface Execution {
  runId: string;
  executor: string;
  instanceId: string;
  pid: number;
  start: bigint;
  /** When the executor settled; null when its process ended first (killed). */
  stop: bigint | null;
  /** How it settled, when it did. */
  outcome: LedgerLine['outcome'] | null;
}

export const monotonicNow = (): bigint => process.hrtime.bigint();

/** Executors that append their starts and stops to the ledger file `path`. */
export function recordingExecutors(
  executors: Record<string, ExecutorDefinition>,
  path: string,
  instanceId: string,
): Record<string, ExecutorDefinition> {
  const fd = openSync(path, 'a');
  process.once('exit', () => closeSync(fd));
  const append = (line: Omit<LedgerLine, 'instanceId' | 'pid' | 'at'>) => {
    const full: LedgerLine = { ...line, instanceId, pid: process.pid, at: String(monotonicNow()) };
    writeSync(fd, `${JSON.stringify(full)}\n`);
  };
  return Object.fromEntries(
    Object.entries(executors).map(([name, definition]) => [
      name,
      {
        ...definition,
        run: async (ctx) => {
          append({ event: 'start', runId: ctx.run.id, executor: name });
          let outcome: LedgerLine['outcome'] = 'rejected';
          try {
            const value = await definition.run(ctx);
            outcome = 'resolved';
            return value;
          } finally {
            append({ event: 'stop', runId: ctx.run.id, executor: name, outcome });
          }
        },
      } satisfies ExecutorDefinition,
    ]),
  );
}

/** Every execution in the ledger files of `dir`, with problems the lines themselves show. */
export function readLedger(dir: string): { executions: Execution[]; problems: string[] } {
  const problems: string[] = [];
  const open = new Map<string, Execution>();
  const executions: Execution[] = [];
  if (!existsSync(dir)) return { executions, problems: [`no ledger directory ${dir}`] };
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.ndjson'))) {
    const text = readFileSync(join(dir, file), 'utf8');
    for (const raw of text.split('\n')) {
      if (raw === '') continue;
      let line: LedgerLine;
      try {
        line = JSON.parse(raw) as LedgerLine;
      } catch {
        // A SIGKILL can only cut the last line of a file, and never a line of a started executor.
        problems.push(`${file}: unreadable line ${JSON.stringify(raw.slice(0, 80))}`);
        continue;
      }
      const key = `${line.instanceId}/${line.runId}`;
      if (line.event === 'start') {
        if (open.has(key))
          problems.push(`${line.instanceId} started run ${line.runId} again before it stopped`);
        const execution: Execution = {
          runId: line.runId,
          executor: line.executor,
          instanceId: line.instanceId,
          pid: line.pid,
          start: BigInt(line.at),
          stop: null,
          outcome: null,
        };
        open.set(key, execution);
        executions.push(execution);
      } else {
        const execution = open.get(key);
        if (!execution) problems.push(`${line.instanceId} stopped run ${line.runId} without a start`);
        else {
          execution.stop = BigInt(line.at);
          execution.outcome = line.outcome ?? null;
          open.delete(key);
        }
      }
    }
  }
  return { executions, problems };
}

/** Milliseconds between two ledger readings. */
export const msBetween = (from: bigint, to: bigint): number => Number(to - from) / 1e6;
