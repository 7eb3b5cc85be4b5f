/**
 * Imports a `CronConfig` collection (schedules that each run a list of scripts) as Cronkeeper jobs,
 * in the same database:
 *
 *   MONGODB_URI=mongodb://localhost:27017/app npm start -- [--dry-run] [--overwrite]
 *
 * MONGODB_URI names the database in its path. CRONCONFIG_COLLECTION (default `cronconfigs`, the
 * collection Mongoose makes for a `CronConfig` model) and IMPORT_TIMEZONE (the zone the old
 * server ran its crons in, default `UTC`) adjust the import. `--dry-run` prints the jobs instead
 * of writing them; `--overwrite` updates jobs imported before. The old collection is only read.
 */
import { mongoStore } from '@cronkeeper/adapter-mongo';
import { createScheduler } from '@cronkeeper/core';
import { MongoClient } from 'mongodb';
import { convertCronConfigs } from './convert.js';
import { executorsFromScripts, type LegacyScript } from './scripts.js';

// Your application's scripts, under the names its CronConfig documents use.
// In a real app, import the script modules themselves; these stand-ins only say they ran.
const scripts: Record<string, LegacyScript> = Object.fromEntries(
  ['synchroRapelles', 'synchroFacture', 'zendeskTicket'].map((name) => [
    name,
    { start: async () => console.log(`[${name}] done`) },
  ]),
);

const uri = process.env.MONGODB_URI;
if (!uri) {
  console.error(
    'Set MONGODB_URI to the database that holds the CronConfig collection, e.g. mongodb://localhost:27017/app',
  );
  process.exit(1);
}
const dryRun = process.argv.includes('--dry-run');
const overwrite = process.argv.includes('--overwrite');

const client = new MongoClient(uri);
try {
  const db = client.db();
  const docs = await db
    .collection(process.env.CRONCONFIG_COLLECTION ?? 'cronconfigs')
    .find()
    .toArray();
  const executors = executorsFromScripts(scripts);
  const { jobs, skipped } = convertCronConfigs(docs, {
    executors: Object.keys(executors),
    timezone: process.env.IMPORT_TIMEZONE ?? 'UTC',
  });
  console.log(`${docs.length} CronConfig document(s): ${jobs.length} to import, ${skipped.length} skipped`);
  for (const { name, reason } of skipped) console.log(`  skipped ${name}: ${reason}`);
  if (dryRun) {
    console.log(JSON.stringify(jobs, null, 2));
  } else {
    const scheduler = createScheduler({ store: mongoStore({ db }), executors, logger: false });
    // seed() is idempotent: running the import twice creates nothing new (unless --overwrite).
    const result = await scheduler.jobs.seed(jobs, { overwrite });
    console.log(
      `created ${result.created.length}, updated ${result.updated.length}, unchanged ${result.unchanged.length}`,
    );
    for (const job of await scheduler.jobs.list({ tenantId: null })) {
      console.log(
        `  ${job.name.padEnd(24)} ${job.schedule.padEnd(14)} next ${job.nextRunAt?.toISOString() ?? '-'}`,
      );
    }
  }
} finally {
  await client.close();
}
