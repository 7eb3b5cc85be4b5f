import type { HealthOptions, HealthReport } from './api.js';
import type { SchedulerContext } from './context.js';
import { toMs } from './duration.js';
import { healthInputSchema } from './operation-schemas.js';
import { parse } from './validation.js';

/** What the health check needs to know about the loop. */
export interface LoopState {
  started: boolean;
  lastTickAt: Date | null;
  pollMs: number;
  /** Runs executing here: their lease may look lapsed in fake time, yet they are alive. */
  active: ReadonlySet<string> | ReadonlyMap<string, unknown>;
}

/** Stuck runs counted at most; past that, the count says "at least". */
const STUCK_LIMIT = 100;

class Timeout extends Error {}

function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Timeout(`no answer within ${ms} ms`)), ms);
    timer.unref?.();
  });
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}

/**
 * A liveness report. `ok` is true when the store initialised (on the first call) and answered within `timeout`, the loop (when started)
 * completed a tick within 3 poll intervals + 30 s, and, with `maxLag`, nothing is due longer than
 * that. It reads two indexed queries (the most overdue job, the lapsed leases) and never rejects.
 */
export async function checkHealth(
  ctx: SchedulerContext,
  loop: LoopState,
  options: HealthOptions = {},
): Promise<HealthReport> {
  const parsed = parse(healthInputSchema, options);
  const timeoutMs = Math.max(1, toMs(parsed.timeout ?? '2s', 'timeout'));
  const maxLagMs = parsed.maxLag == null ? null : toMs(parsed.maxLag, 'maxLag');
  const now = ctx.clock.now();
  const maxTickAgeMs = 3 * loop.pollMs + 30_000;
  const alive =
    loop.started && loop.lastTickAt !== null && now.getTime() - loop.lastTickAt.getTime() <= maxTickAgeMs;

  const started = performance.now();
  let store: HealthReport['store'];
  let oldestDueLagMs: number | null = null;
  let stuckRuns: number | null = null;
  try {
    const [due, expired] = await within(
      // A store not initialised yet is initialised here, within the same timeout: a probe before
      // the first call reports "not ready" with the reason rather than a missing table.
      ctx
        .ready()
        .then(() =>
          Promise.all([
            ctx.store.findDueJobs({ now, limit: 1 }),
            ctx.store.findExpiredLeases({ now, limit: STUCK_LIMIT }),
          ]),
        ),
      timeoutMs,
    );
    store = { reachable: true, latencyMs: Math.round(performance.now() - started), error: null };
    const overdue = due[0]?.nextRunAt;
    oldestDueLagMs = overdue ? Math.max(0, now.getTime() - overdue.getTime()) : 0;
    stuckRuns = expired.filter((run) => !loop.active.has(run.id)).length;
  } catch (error) {
    store = {
      reachable: false,
      latencyMs: error instanceof Timeout ? timeoutMs : Math.round(performance.now() - started),
      error: error instanceof Error ? error.message : String(error),
    };
  }
  const lagOk = maxLagMs === null || (oldestDueLagMs !== null && oldestDueLagMs <= maxLagMs);
  return {
    ok: store.reachable && (!loop.started || alive) && lagOk,
    checkedAt: now,
    loop: { started: loop.started, alive, lastTickAt: loop.lastTickAt, maxTickAgeMs },
    store,
    oldestDueLagMs,
    stuckRuns,
  };
}
