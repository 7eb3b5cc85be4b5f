import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Socket } from 'node:net';
import { findPgbouncer } from './topologies/pgbouncer.js';

// Runs once before any test file: finds out which optional services this machine has, prints ONE
// line naming the suites that will be skipped, and hands the answers to the test files through the
// environment (the worker processes inherit it), so no file probes or prints again.
//
// A service whose URL variable is set is required, never probed: its suites run and fail loudly if
// it is down. That is how CI runs.

const PG_DEFAULT = 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_DEFAULT = 'redis://127.0.0.1:6379';

/** Whether something accepts TCP connections at the URL's host and port. */
function answers(url: string, defaultPort: number): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(Number(port || defaultPort), hostname, () => done(true));
  });
}

async function available(variable: string, url: string, defaultPort: number): Promise<boolean> {
  if (process.env[variable]) return true;
  return answers(url, defaultPort);
}

export default async function setup(): Promise<void> {
  const pg = await available('CRONKEEPER_PG_URL', PG_DEFAULT, 5432);
  const redis = await available('CRONKEEPER_REDIS_URL', REDIS_DEFAULT, 6379);
  const redisServer =
    Boolean(process.env.CRONKEEPER_REDIS_URL) ||
    spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  const browser = process.env.CRONKEEPER_BROWSER === '1' || existsSync('/usr/bin/chromium');
  const mongo = Boolean(process.env.MONGODB_URI);
  // Production topologies the tests build from private server processes: required (never probed)
  // when CRONKEEPER_TOPOLOGIES=1, as CI sets it; otherwise they run where the binaries exist.
  const topologiesRequired = process.env.CRONKEEPER_TOPOLOGIES === '1';
  const redisCluster =
    topologiesRequired ||
    (redisServer && spawnSync('redis-cli', ['--version'], { stdio: 'ignore' }).status === 0);
  const pgbouncer = topologiesRequired || (pg && findPgbouncer() !== null);

  process.env.CRONKEEPER_SERVICES_PROBED = '1';
  process.env.CRONKEEPER_PG_AVAILABLE = pg ? '1' : '0';
  process.env.CRONKEEPER_REDIS_AVAILABLE = redis ? '1' : '0';
  process.env.CRONKEEPER_REDIS_SERVER_AVAILABLE = redisServer ? '1' : '0';
  process.env.CRONKEEPER_BROWSER_AVAILABLE = browser ? '1' : '0';
  process.env.CRONKEEPER_REDIS_CLUSTER_AVAILABLE = redisCluster ? '1' : '0';
  process.env.CRONKEEPER_PGBOUNCER_AVAILABLE = pgbouncer ? '1' : '0';

  const skipped = [
    pg ? null : `PostgreSQL (nothing on ${new URL(PG_DEFAULT).host}; set CRONKEEPER_PG_URL)`,
    redis ? null : `Redis (nothing on ${new URL(REDIS_DEFAULT).host}; set CRONKEEPER_REDIS_URL)`,
    redis && !redisServer ? 'Redis restart tests (no redis-server on PATH)' : null,
    mongo ? null : 'MongoDB (set MONGODB_URI)',
    browser ? null : 'dashboard in Chromium (no /usr/bin/chromium; set CRONKEEPER_BROWSER=1)',
    redisCluster
      ? null
      : 'Redis Cluster (no redis-server and redis-cli on PATH; set CRONKEEPER_TOPOLOGIES=1)',
    pgbouncer
      ? null
      : `PgBouncer (${pg ? 'no pgbouncer binary' : 'no PostgreSQL'}; set CRONKEEPER_TOPOLOGIES=1)`,
  ].filter((entry): entry is string => entry !== null);
  if (skipped.length > 0) console.log(`[cronkeeper] suites skipped: ${skipped.join('; ')}`);
}
