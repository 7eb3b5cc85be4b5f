/**
 * CPU time the database server spends for a measured process, read from /proc: the PostgreSQL
 * backends of its own connections (found by their `application_name`), or the redis-server process
 * (one process serves every client, so other Redis work at the same time counts too). A cost per
 * tick measured on the client alone would miss work a store moves into SQL or Lua.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type pg from 'pg';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      // Linux's USER_HZ on every common architecture.
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User + system CPU of process `pid` in ms, or null when /proc does not show it. */
export function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is the first, utime the 12th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / clockTicks()) * 1000;
  } catch {
    return null;
  }
}

/** A reading of the server CPU spent so far for one client; `since` gives the ms spent after it. */
export interface ServerCpu {
  read(): Promise<Map<number, number> | null>;
}

/** The CPU of the PostgreSQL backends whose `application_name` is `name` (read through `pool`). */
export function postgresServerCpu(pool: pg.Pool, name: string): ServerCpu {
  return {
    async read() {
      const { rows } = await pool.query<{ pid: number }>(
        'select pid from pg_stat_activity where application_name = $1',
        [name],
      );
      const cpu = new Map<number, number>();
      for (const { pid } of rows) {
        const ms = processCpuMs(pid);
        if (ms === null) return null;
        cpu.set(pid, ms);
      }
      return cpu;
    },
  };
}

/** The CPU of the redis-server process `redis` talks to. */
export function redisServerCpu(redis: Redis): ServerCpu {
  return {
    async read() {
      const pid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
      const ms = Number.isFinite(pid) ? processCpuMs(pid) : null;
      return ms === null ? null : new Map([[pid, ms]]);
    },
  };
}

/** Server CPU ms between two readings; processes that appeared in between count in full. */
export function cpuBetween(
  before: Map<number, number> | null,
  after: Map<number, number> | null,
): number | null {
  if (!before || !after) return null;
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
  return total;
}

/**
 * The CPU of every process of the server named `command` (`redis-server`, `postgres`) on this
 * machine: for W1, where each system's workers are the only clients, the whole server's share of a
 * run is what it costs, whichever connection did the work.
 */
export function serverProcessesCpu(command: string): ServerCpu {
  return {
    async read() {
      let pids: number[];
      try {
        pids = execFileSync('pgrep', ['-x', command], { encoding: 'utf8' }).trim().split('\n').map(Number);
      } catch {
        return null;
      }
      const cpu = new Map<number, number>();
      for (const pid of pids) {
        const ms = processCpuMs(pid);
        if (ms !== null) cpu.set(pid, ms);
      }
      return cpu.size > 0 ? cpu : null;
    },
  };
}
