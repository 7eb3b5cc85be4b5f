import type { Redis } from 'ioredis';
import { KeyLayout } from '../src/keys.js';

type Hash = Record<string, string>;

const sameScore = (a: string, b: string): boolean => a === b || Number(a) === Number(b);

async function zmembers(client: Redis, key: string): Promise<Map<string, string>> {
  const flat = await client.zrange(key, 0, -1, 'WITHSCORES');
  const members = new Map<string, string>();
  for (let index = 0; index < flat.length; index += 2)
    members.set(flat[index] as string, flat[index + 1] as string);
  return members;
}

/**
 * Checks that every index, counter and map under `prefix` agrees with the run and job hashes:
 * the property every script must keep. Returns the problems found (empty when consistent).
 */
export async function checkIndexes(client: Redis, prefix: string): Promise<string[]> {
  const keys = new KeyLayout(prefix);
  const root = keys.root;
  const problems: string[] = [];
  const allKeys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', `${root}*`, 'COUNT', 1000);
    allKeys.push(...batch);
    cursor = next;
  } while (cursor !== '0');

  const runs = new Map<string, Hash>();
  for (const key of allKeys.filter((k) => k.startsWith(`${root}run:`)))
    runs.set(key.slice(`${root}run:`.length), await client.hgetall(key));
  const jobs = new Map<string, Hash>();
  for (const key of allKeys.filter((k) => k.startsWith(`${root}job:`)))
    jobs.set(key.slice(`${root}job:`.length), await client.hgetall(key));

  const expectSet = async (key: string, expected: Map<string, string | null>, what: string) => {
    const actual = await zmembers(client, key);
    for (const [member, score] of expected) {
      if (!actual.has(member)) problems.push(`${what}: ${member} missing from ${key}`);
      else if (score !== null && !sameScore(actual.get(member) as string, score))
        problems.push(`${what}: ${member} has score ${actual.get(member)} in ${key}, expected ${score}`);
    }
    for (const member of actual.keys())
      if (!expected.has(member)) problems.push(`${what}: unexpected ${member} in ${key}`);
  };
  const group = (entries: [string, string, string | null][]) => {
    const byKey = new Map<string, Map<string, string | null>>();
    for (const [key, member, score] of entries) {
      const set = byKey.get(key) ?? new Map<string, string | null>();
      byKey.set(key, set);
      set.set(member, score);
    }
    return byKey;
  };

  // Run indexes, rebuilt from the hashes.
  const expected: [string, string, string | null][] = [];
  const queues: [string, string][] = [];
  const pending = new Map<string, number>();
  const running = new Map<string, number>();
  const executorRunning = new Map<string, number>();
  for (const [id, run] of runs) {
    const tk = run._tk as string;
    const h = run._h as string;
    const status = run.status as string;
    for (const key of [
      keys.history,
      keys.historyOfTenant(tk),
      keys.historyOfStatus(status),
      keys.historyOfExecutor(run.executor as string),
      ...(run.jobId ? [keys.historyOfJob(run.jobId)] : []),
    ])
      expected.push([key, h, '0']);
    if (status === 'pending') {
      expected.push([keys.pendingRuns, id, run.runAt as string]);
      expected.push([`${root}keys:pending:${run.concurrencyKey}`, id, run.runAt as string]);
      pending.set(tk, (pending.get(tk) ?? 0) + 1);
      queues.push([id, run._ck as string]);
    } else if (status === 'running') {
      expected.push([keys.leases, id, run.leaseUntil ?? 'inf']);
      expected.push([keys.runningRuns, id, run.startedAt ?? 'inf']);
      running.set(tk, (running.get(tk) ?? 0) + 1);
      const field = `${tk}\u0000${run.executor}`;
      executorRunning.set(field, (executorRunning.get(field) ?? 0) + 1);
    } else if (run.finishedAt) {
      expected.push([keys.finished(status), id, run.finishedAt]);
      expected.push([keys.finished(status, tk), id, run.finishedAt]);
    }
    if (run.dedupeKey && (await client.hget(`${root}runs:dedupe`, run.dedupeKey)) !== id)
      problems.push(`run ${id}: dedupe key ${run.dedupeKey} does not map to it`);
  }
  const indexKeys = allKeys.filter(
    (key) =>
      key.startsWith(`${root}runs:history`) ||
      key.startsWith(`${root}runs:finished:`) ||
      key.startsWith(`${root}keys:pending:`) ||
      key === keys.pendingRuns ||
      key === keys.leases ||
      key === keys.runningRuns,
  );
  const grouped = group(expected);
  for (const key of new Set([...indexKeys, ...grouped.keys()]))
    await expectSet(key, grouped.get(key) ?? new Map(), 'index');

  // A pending run is in exactly one of waiting, ready and its key's parked runs (blocked: the
  // set of ids earlier versions wrote, still read and released).
  const waiting = await zmembers(client, `${root}runs:waiting`);
  const ready = await zmembers(client, `${root}runs:ready`);
  const parked = new Map<string, string>();
  for (const key of allKeys.filter((k) => k.startsWith(`${root}runs:parked:`))) {
    const ck = key.slice(`${root}runs:parked:`.length);
    for (const [member, score] of await zmembers(client, key)) {
      const id = member.slice(member.lastIndexOf(':') + 1);
      parked.set(id, ck);
      const run = runs.get(id);
      if (run && (run._ck !== member || run.priority !== score || run.concurrencyKey !== ck))
        problems.push(`${key} holds ${member} with score ${score}, not run ${id}'s claim entry`);
    }
  }
  for (const key of allKeys.filter((k) => k.startsWith(`${root}runs:blocked:`)))
    for (const id of await client.smembers(key)) parked.set(id, key.slice(`${root}runs:blocked:`.length));
  for (const [id, ck] of queues) {
    const places = [waiting.has(id), ready.has(ck), parked.has(id)].filter(Boolean).length;
    if (places !== 1) problems.push(`pending run ${id} is in ${places} of waiting/ready/parked`);
  }
  const pendingIds = new Set(queues.map(([id]) => id));
  for (const id of waiting.keys()) if (!pendingIds.has(id)) problems.push(`waiting holds non-pending ${id}`);
  for (const id of parked.keys()) if (!pendingIds.has(id)) problems.push(`parked holds non-pending ${id}`);
  // No key strands its queue: once no exclusive run of a key is running, some pending run of that
  // key is waiting or ready to be claimed whenever any of them is parked.
  for (const ck of new Set(parked.values())) {
    if ((await client.scard(`${root}keys:exclusive:${ck}`)) > 0) continue;
    const claimable = queues.some(
      ([id, member]) => runs.get(id)?.concurrencyKey === ck && (waiting.has(id) || ready.has(member)),
    );
    if (!claimable) problems.push(`key ${ck} has parked runs, none running and none waiting or ready`);
  }

  // Running sets per concurrency key.
  for (const key of allKeys.filter(
    (k) => k.startsWith(`${root}keys:running:`) || k.startsWith(`${root}keys:exclusive:`),
  )) {
    for (const id of await client.smembers(key)) {
      const run = runs.get(id);
      if (run?.status !== 'running') problems.push(`${key} holds ${id}, which is not running`);
      else if (key.startsWith(`${root}keys:exclusive:`) && run.overlap === 'allow')
        problems.push(`${key} holds the allow run ${id}`);
    }
  }
  for (const [id, run] of runs) {
    if (run.status !== 'running') continue;
    if (!(await client.sismember(`${root}keys:running:${run.concurrencyKey}`, id)))
      problems.push(`running run ${id} missing from its key's running set`);
    if (
      run.overlap !== 'allow' &&
      !(await client.sismember(`${root}keys:exclusive:${run.concurrencyKey}`, id))
    )
      problems.push(`running run ${id} missing from its key's exclusive set`);
  }

  // Counters.
  for (const tk of await client.smembers(keys.tenants)) {
    const [p, r] = await client.hmget(keys.active(tk), 'pending', 'running');
    if (Number(p ?? 0) !== (pending.get(tk) ?? 0))
      problems.push(`tenant ${tk}: pending counter ${p}, actual ${pending.get(tk) ?? 0}`);
    if (Number(r ?? 0) !== (running.get(tk) ?? 0))
      problems.push(`tenant ${tk}: running counter ${r}, actual ${running.get(tk) ?? 0}`);
    const counters = await client.hgetall(keys.executors(tk));
    for (const [field, value] of Object.entries(counters)) {
      if (!field.startsWith('running:')) continue;
      const actual = executorRunning.get(`${tk}\u0000${field.slice('running:'.length)}`) ?? 0;
      if (Number(value) !== actual) problems.push(`tenant ${tk}: ${field} = ${value}, actual ${actual}`);
    }
  }

  // Jobs: names and due indexes.
  const names = await client.hgetall(keys.jobNames);
  const dueExpected: [string, string, string | null][] = [];
  for (const [id, job] of jobs) {
    if (names[job._nk as string] !== id) problems.push(`job ${id}: name key does not map to it`);
    if (job.enabled === '1' && job.nextRunAt) {
      dueExpected.push([keys.dueJobs, id, job.nextRunAt]);
      dueExpected.push([keys.dueJobsOfTenant(job._tk as string), id, job.nextRunAt]);
    }
  }
  for (const [name, id] of Object.entries(names))
    if (!jobs.has(id)) problems.push(`name ${name} maps to missing job ${id}`);
  const dueGrouped = group(dueExpected);
  const dueKeys = allKeys.filter((key) => key.startsWith(`${root}jobs:due`));
  for (const key of new Set([...dueKeys, ...dueGrouped.keys()]))
    await expectSet(key, dueGrouped.get(key) ?? new Map(), 'due');
  return problems;
}
