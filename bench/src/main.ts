/**
 * Cronkeeper benchmarks: `pnpm bench [--quick] [--only W1,W3] [--write-doc]`.
 * Measures the workloads of docs/benchmarks.md on the memory, PostgreSQL and Redis stores (and the
 * peers), prints a table, writes the figures as JSON under bench/results/ and, with --write-doc,
 * replaces the generated section of docs/benchmarks.md.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  createBenchDatabase,
  deleteRedisKeys,
  dropBenchDatabase,
  machineInfo,
  probeServices,
  REDIS_KEY_ROOT,
} from './lib/env.js';
import { renderMarkdown, renderTable } from './lib/render.js';
import type { BenchContext, Row, Workload } from './lib/report.js';
import { loadPostgresStore, type StoreKind } from './lib/stores.js';
import { w1 } from './workloads/w1-throughput.js';
import { w2 } from './workloads/w2-latency.js';
import { w3 } from './workloads/w3-cron-lag.js';
import { w4 } from './workloads/w4-crash.js';
import { w5 } from './workloads/w5-cron-math.js';
import { w6 } from './workloads/w6-scale.js';
import { w7 } from './workloads/w7-bulk.js';
import { w8 } from './workloads/w8-backlog.js';

// Work a workload hands to `background` (W3's minute window, W4's lease waits) starts once all of
// them have run, so it overlaps only other background work.
const WORKLOADS: Workload[] = [w1, w2, w5, w3, w4, w6, w7, w8];
const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));
const DOC = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));
const BEGIN = '<!-- bench:results:begin -->';
const END = '<!-- bench:results:end -->';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    reps: { type: 'string' },
    'w1-reps': { type: 'string' },
    stores: { type: 'string' },
    'no-peers': { type: 'boolean', default: false },
    'write-doc': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(`usage: pnpm bench [--quick] [--only W1,W3] [--reps N] [--write-doc]
  --quick      smaller workloads, one repetition, no minute cron window (under a minute)
  --only       run only these workloads
  --reps       repetitions of each short trial (default 3, quick 1)
  --w1-reps    repetitions of each W1 trial (default 1: its 12 trials fill most of the budget)
  --stores     only these Cronkeeper stores (memory,postgres,redis)
  --no-peers   skip graphile-worker, pg-boss and BullMQ
  --write-doc  replace the generated section of docs/benchmarks.md with this run's figures`);
  process.exit(0);
}

const only = values.only?.split(',').map((id) => id.trim().toUpperCase());
const selected = WORKLOADS.filter((workload) => !only || only.includes(workload.id));
if (selected.length === 0) throw new Error(`--only ${values.only}: no such workload (W1…W8)`);

const started = new Date();
const services = await probeServices();
const postgresStore = services.postgres ? await loadPostgresStore() : null;
const available: StoreKind[] = ['memory'];
if (postgresStore) available.push('postgres');
if (services.redis) available.push('redis');
const wanted = values.stores?.split(',').map((kind) => kind.trim());
const kinds = available.filter((kind) => !wanted || wanted.includes(kind));
const ctx: BenchContext = {
  quick: values.quick,
  reps: values.reps ? Number(values.reps) : values.quick ? 1 : 3,
  w1Reps: values['w1-reps'] ? Number(values['w1-reps']) : 1,
  services,
  kinds,
  peers: !values['no-peers'],
  log: (message) => console.log(`  ${message}`),
  // --quick starts it at once, overlapping what follows, to stay within its minute.
  background: (work) => {
    if (values.quick) {
      const started = work();
      // Awaited at the end; until then a failure must not count as unhandled.
      started.catch(() => {});
      background.push(() => started);
    } else background.push(work);
  },
};
const background: (() => Promise<Row[]>)[] = [];

const notes: string[] = [];
if (!services.postgres) notes.push('PostgreSQL was unreachable: its rows and its peers are missing.');
else if (!postgresStore)
  notes.push('The PostgreSQL store is not in this checkout yet: cronkeeper/postgres rows are missing.');
if (!services.redis) notes.push('Redis was unreachable: its rows and BullMQ are missing.');
for (const note of notes) console.log(`note: ${note}`);

if (services.postgres) await createBenchDatabase();
const machine = await machineInfo();
const rows: Row[] = [];
try {
  for (const workload of selected) {
    console.log(`${workload.id} ${workload.title}`);
    const t0 = Date.now();
    rows.push(...(await workload.run(ctx)));
    console.log(`  (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
  if (background.length > 0) console.log('background work (W3 minute window, W4 lease waits)');
  const t0 = Date.now();
  for (const figures of await Promise.all(background.map((work) => work()))) rows.push(...figures);
  if (background.length > 0) console.log(`  (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
} finally {
  if (services.postgres) await dropBenchDatabase();
  if (services.redis) await deleteRedisKeys(`*${REDIS_KEY_ROOT}*`);
}

const finished = new Date();
const report = {
  started: started.toISOString(),
  durationS: Math.round((finished.getTime() - started.getTime()) / 1000),
  mode: values.quick ? 'quick' : 'full',
  reps: ctx.reps,
  w1Reps: ctx.w1Reps,
  machine,
  stores: kinds,
  notes,
  rows,
};
console.log(renderTable(rows));
console.log(`total ${report.durationS} s`);
await mkdir(RESULTS_DIR, { recursive: true });
const file = `${RESULTS_DIR}${started.toISOString().replace(/[:.]/g, '-')}${values.quick ? '-quick' : ''}.json`;
await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
console.log(`figures written to ${file}`);

if (values['write-doc']) {
  const doc = await readFile(DOC, 'utf8');
  const begin = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`docs/benchmarks.md has no ${BEGIN} … ${END} section`);
  const generated = renderMarkdown(report);
  await writeFile(DOC, `${doc.slice(0, begin + BEGIN.length)}\n${generated}\n${doc.slice(end)}`);
  console.log('docs/benchmarks.md updated');
}
