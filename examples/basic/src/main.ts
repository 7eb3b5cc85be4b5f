/**
 * Cronkeeper demo on the in-memory store: executors shaped like a typical app's maintenance scripts, jobs
 * firing every few seconds, a manual "run now", a one-off in 10 s, a failing executor that retries,
 * and a table of every run at the end. Runs ~25 s and exits; `--forever` keeps it going until Ctrl-C.
 */
import { memoryStore } from '@cronkeeper/adapter-memory';
import { ConflictError, createScheduler, defineExecutor } from '@cronkeeper/core';
import { z } from 'zod';

const forever = process.argv.includes('--forever');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const scheduler = createScheduler({
  store: memoryStore(),
  pollInterval: '250ms',
  executors: {
    markUsersOffline: defineExecutor({
      description: 'Marks users offline when their last heartbeat is older than the timeout',
      params: z.object({ timeout_minutes: z.number().int().positive() }),
      defaults: { timeout_minutes: 5 },
      estimatedDuration: '50ms',
      run: async (ctx) => {
        await sleep(50);
        const total = Math.floor(Math.random() * 20);
        ctx.log.info(`${total} users idle for more than ${ctx.params.timeout_minutes} minutes`);
        return { users_marked_offline: total };
      },
    }),
    synchroFacture: defineExecutor({
      description: 'Synchronises invoices',
      estimatedDuration: '300ms',
      run: async (ctx) => {
        for (let page = 1; page <= 3; page++) {
          ctx.progress(page * 33, `page ${page}/3`);
          await sleep(100);
        }
        return { invoices: 42 };
      },
    }),
    monitorBudget: defineExecutor({
      description: 'Checks the monthly API budget',
      params: z.object({ budget: z.number().positive() }),
      defaults: { budget: 10 },
      run: async (ctx) => ({ usage: 3.24, budget: ctx.params.budget }),
    }),
    flakyImport: defineExecutor({
      description: 'An import that fails twice, then succeeds',
      retry: { limit: 3, backoff: { type: 'exponential', delay: '1s' } },
      run: (ctx) => {
        if (ctx.run.attempt < 3) throw new Error(`upstream timeout (attempt ${ctx.run.attempt})`);
        return { imported: 7 };
      },
    }),
  },
});

await scheduler.jobs.create({
  name: 'mark-users-offline',
  schedule: '*/3 * * * * *',
  executor: 'markUsersOffline',
  description: 'Every 3 seconds',
});
await scheduler.jobs.create({
  name: 'morning-sync',
  schedule: '*/5 * * * * *',
  tasks: ['synchroFacture', { executor: 'monitorBudget', params: { budget: 25 } }],
  description: 'Two tasks in one run, every 5 seconds',
});
await scheduler.jobs.create({ name: 'flaky-import', schedule: '0 0 * * *', executor: 'flakyImport' });
await scheduler.start();

const manual = await scheduler.trigger({ job: 'morning-sync', triggeredBy: 'demo-user' });
console.log(`manual run ${manual.id} created (${manual.status})`);
try {
  await scheduler.trigger({ job: 'morning-sync' });
} catch (error) {
  if (error instanceof ConflictError) console.log(`second click refused: ${error.message}`);
  else throw error;
}
const oneOff = await scheduler.schedule({
  executor: 'monitorBudget',
  at: new Date(Date.now() + 10_000),
  params: { budget: 50 },
  createdBy: 'demo-user',
});
console.log(`one-off ${oneOff.id} scheduled for ${oneOff.runAt.toISOString()}`);
await scheduler.trigger({ job: 'flaky-import' });

if (forever) {
  process.on('SIGINT', () => void scheduler.stop({ grace: '5s' }).then(() => process.exit(0)));
  await new Promise(() => {});
}
await sleep(16_000);
await scheduler.stop({ grace: '5s' });

const { items } = await scheduler.runs.list({ limit: 200 });
console.table(
  items.reverse().map((run) => ({
    job: run.jobName ?? `(${run.executor})`,
    trigger: run.trigger,
    status: run.status,
    attempt: run.attempt,
    scheduledFor: run.scheduledFor?.toISOString().slice(11, 19) ?? '',
    durationMs: run.durationMs,
    error: run.error?.message ?? '',
  })),
);
const stats = await scheduler.stats();
console.log(
  `executions in 24 h: ${stats.executions24h}, failures: ${stats.failures24h}, success rate: ${Math.round((stats.successRate ?? 0) * 100)}%`,
);
