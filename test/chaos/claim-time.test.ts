import { memoryStore } from '@cronkeeper/adapter-memory';
import { createScheduler } from '@cronkeeper/core';
import { expect, it } from 'vitest';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Regression found by the chaos suite: the loop claimed runs with the `now` read at the start of
// its tick, after firing due slots had taken a while. A run of an exclusive job could then be
// recorded as started before the previous run of that job finished, with a lease shorter than
// configured by the same amount.
it('a run claimed after a slow tick starts no earlier than the run it waited for ended', async () => {
  const store = memoryStore();
  let slow = false;
  const findDueJobs = store.findDueJobs.bind(store);
  store.findDueJobs = async (query) => {
    if (slow) await sleep(300);
    return findDueJobs(query);
  };
  const scheduler = createScheduler({
    store,
    logger: false,
    maintenanceJobs: false,
    lease: '10s',
    executors: { work: { run: () => sleep(300) } },
  });
  await scheduler.jobs.create({
    name: 'exclusive',
    schedule: '0 0 1 1 *',
    executor: 'work',
    overlap: 'queue',
  });
  await scheduler.start();
  const first = await scheduler.trigger({ job: 'exclusive' });
  // Due while the first run (300 ms) is still running: it waits (overlap queue). 200 ms ahead, so
  // a loaded machine cannot make the instant past before schedule() checks it is in the future.
  const second = await scheduler.schedule({ job: 'exclusive', at: new Date(Date.now() + 200) });
  await sleep(150);
  // A tick that starts now, while the first run runs, and whose firing step outlasts that run.
  slow = true;
  await scheduler.reload();
  await sleep(900);
  await scheduler.stop();
  const a = await scheduler.runs.get(first.id);
  const b = await scheduler.runs.get(second.id);
  expect([a.status, b.status]).toEqual(['succeeded', 'succeeded']);
  expect(b.startedAt!.getTime()).toBeGreaterThanOrEqual(a.finishedAt!.getTime());
});
