import type { ExecutorDefinition } from '@cronkeeper/core';

/**
 * The executors of the chaos workload, registered in every worker process (which runs them) and
 * in the test's driver scheduler (which only validates triggers against them).
 */

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

const numberParam = (params: unknown, key: string, fallback: number): number => {
  const value = (params as Record<string, unknown>)[key];
  return typeof value === 'number' ? value : fallback;
};

export function chaosExecutors(): Record<string, ExecutorDefinition> {
  return {
    // The cron workload: short work, so 50 jobs a second stay within a 2-core machine.
    tick: { run: (ctx) => sleep(numberParam(ctx.params, 'ms', 5), ctx.signal) },
    // Longer than its job's period: exercises overlap skip/queue and gives kills something to hit.
    slow: { run: (ctx) => sleep(numberParam(ctx.params, 'ms', 1500), ctx.signal) },
    // Fails its first `failures` attempts, then succeeds: every retry must link to its parent.
    flaky: {
      retry: { limit: 2, backoff: { type: 'fixed', delay: 200 } },
      run: async (ctx) => {
        await sleep(numberParam(ctx.params, 'ms', 20), ctx.signal);
        if (ctx.run.attempt <= numberParam(ctx.params, 'failures', 1))
          throw new Error(`planned failure of attempt ${ctx.run.attempt}`);
      },
    },
    // Always fails: the retry chain must end at the limit, every link terminal.
    doomed: {
      retry: { limit: 1, backoff: { type: 'fixed', delay: 100 } },
      run: () => {
        throw new Error('always fails');
      },
    },
  };
}
