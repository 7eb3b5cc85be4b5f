/**
 * One instance of the host app, run as a child process by main.ts. It prints what it does and
 * takes two commands from its parent: trigger a job or executor, and stop.
 */
import { createApp } from './app.js';

type Command = { cmd: 'trigger'; job?: string; executor?: string } | { cmd: 'stop' };

const name = process.argv[2] ?? 'a';
const say = (line: string) => console.log(`[${name}] ${line}`);
const tell = (message: Record<string, unknown>) => process.send?.({ instance: name, ...message });

const { scheduler, pool } = createApp(name);

// Events of runs on other instances arrive here too (through NOTIFY); print only our own.
scheduler.on('run:started', ({ run, origin }) => {
  if (origin !== name) return;
  const label = run.jobName ?? run.executor;
  const sinceCreated = Date.now() - run.createdAt.getTime();
  say(`${label} started here, ${sinceCreated} ms after it was created`);
  tell({ type: 'started', runId: run.id, label, sinceCreated });
});
scheduler.on('run:succeeded', ({ run, origin }) => {
  if (origin !== name) return;
  const label = run.jobName ?? run.executor;
  say(`${label} succeeded: ${JSON.stringify(run.result)}`);
  tell({ type: 'finished', runId: run.id, label });
});
scheduler.on('scheduler:error', ({ error, operation }) => say(`error in ${operation}: ${error.message}`));

process.on('message', async (message: Command) => {
  if (message.cmd === 'stop') {
    await scheduler.stop({ grace: '5s' });
    await pool.end();
    process.exit(0);
  }
  const run = await scheduler.trigger({
    job: message.job,
    executor: message.executor,
    triggeredBy: `instance ${name}`,
  });
  const label = run.jobName ?? run.executor;
  say(`triggered ${label} (run ${run.id.slice(0, 8)})`);
  tell({ type: 'triggered', runId: run.id, label });
});

await scheduler.start();
say(`started (pid ${process.pid}, concurrency 1, polls every 60 s)`);
tell({ type: 'ready' });
