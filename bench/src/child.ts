/**
 * Entry of every child process the harness starts: `child.ts <role> <json config>`.
 * Roles: `instance` (a Cronkeeper scheduler), `peer` (a graphile-worker, pg-boss or BullMQ
 * worker) and `scale` (W6's measured scheduler). Children talk to the harness over IPC.
 */
import { benchScheduler, Recorder } from './lib/instance.js';
import { reply, serve } from './lib/ipc.js';
import { preciseNow } from './lib/stats.js';
import { openStore, type StoreKind } from './lib/stores.js';
import { runPeerChild } from './peers/worker.js';
import { runScaleChild } from './workloads/w6-scale.js';

async function runInstance(config: { kind: StoreKind; label: string; concurrency?: number }): Promise<void> {
  const opened = await openStore(config.kind, config.label);
  const recorder = new Recorder();
  const scheduler = benchScheduler(opened, recorder, {
    ...(config.concurrency === undefined ? {} : { concurrency: config.concurrency }),
  });
  // Initialise the store now, so `go` measures the loop and not schema setup.
  await opened.store.init();
  serve(
    {
      go: async () => {
        const at = preciseNow();
        await scheduler.start();
        return { type: 'started', at, instanceId: scheduler.instanceId };
      },
      poll: () => ({
        type: 'progress',
        finished: recorder.finished,
        started: recorder.starts.length,
        lastStart: recorder.starts.at(-1) ?? null,
      }),
      collect: () => ({
        type: 'records',
        starts: recorder.starts,
        finished: recorder.finished,
        failed: recorder.failed,
        lastFinishAt: recorder.lastFinishAt,
        errors: recorder.errors.slice(0, 20),
        calls: opened.calls.snapshot(),
      }),
    },
    async () => {
      await scheduler.stop({ grace: '2s' });
      await opened.close();
    },
  );
  reply({ type: 'ready', instanceId: scheduler.instanceId });
}

const [role, rawConfig] = process.argv.slice(2);
const config = JSON.parse(rawConfig ?? '{}');
const roles: Record<string, (config: never) => Promise<void>> = {
  instance: runInstance,
  peer: runPeerChild,
  scale: runScaleChild,
};
const run = roles[role ?? ''];
if (!run) throw new Error(`unknown child role "${role}"`);
run(config as never).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
