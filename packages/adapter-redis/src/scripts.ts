import { createHash, randomUUID } from 'node:crypto';
import { execPipeline, type RedisArgument, type RedisClientLike } from './client.js';
import {
  CONSUME_RATE_LIMITS,
  DELETE_JOB,
  FAIL_STALE_RUNS,
  INSERT_JOB,
  INSERT_JOBS,
  PRUNE_AUDIT,
  PRUNE_RUNS,
  UPDATE_JOB,
} from './lua/admin.js';
import {
  CANCEL_RUN,
  CLAIM_RUNS,
  CREATE_RUN,
  CREATE_RUNS,
  FINISH_AND_CLAIM,
  FINISH_RUNS,
  FIRE_AND_CLAIM,
  FIRE_SLOTS,
  RENEW_LEASE,
} from './lua/claim-path.js';
import { PUBLISH_EVENTS } from './lua/events.js';
import { PRELUDE, replaySafe } from './lua/prelude.js';
import { FIND_DUE_JOBS } from './lua/reads.js';

/**
 * One Lua script: its source (the shared prelude + its body) and the SHA1 `EVALSHA` runs it by.
 * A script that writes answers a resent request from its record (see `replaySafe`); a read-only
 * one (`readOnly`) just runs again, with no record to write.
 */
export class LuaScript {
  readonly sha: string;
  readonly source: string;

  constructor(
    readonly name: string,
    body: string,
    options: { readOnly?: boolean } = {},
  ) {
    this.source = `${PRELUDE}\n${options.readOnly ? body : replaySafe(body)}`;
    this.sha = createHash('sha1').update(this.source).digest('hex');
  }
}

/** Every script the store runs; `init()` loads them all. */
export const SCRIPTS = {
  findDueJobs: new LuaScript('findDueJobs', FIND_DUE_JOBS, { readOnly: true }),
  fireSlots: new LuaScript('fireSlots', FIRE_SLOTS),
  fireAndClaim: new LuaScript('fireAndClaim', FIRE_AND_CLAIM),
  createRun: new LuaScript('createRun', CREATE_RUN),
  createRuns: new LuaScript('createRuns', CREATE_RUNS),
  claimRuns: new LuaScript('claimRuns', CLAIM_RUNS),
  renewLease: new LuaScript('renewLease', RENEW_LEASE),
  finishRuns: new LuaScript('finishRuns', FINISH_RUNS),
  finishAndClaim: new LuaScript('finishAndClaim', FINISH_AND_CLAIM),
  cancelRun: new LuaScript('cancelRun', CANCEL_RUN),
  insertJob: new LuaScript('insertJob', INSERT_JOB),
  insertJobs: new LuaScript('insertJobs', INSERT_JOBS),
  updateJob: new LuaScript('updateJob', UPDATE_JOB),
  deleteJob: new LuaScript('deleteJob', DELETE_JOB),
  failStaleRuns: new LuaScript('failStaleRuns', FAIL_STALE_RUNS),
  pruneRuns: new LuaScript('pruneRuns', PRUNE_RUNS),
  pruneAudit: new LuaScript('pruneAudit', PRUNE_AUDIT),
  publishEvents: new LuaScript('publishEvents', PUBLISH_EVENTS),
  consumeRateLimits: new LuaScript('consumeRateLimits', CONSUME_RATE_LIMITS),
} as const;

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/**
 * Run `script` by its SHA; if the server does not know it (restarted, failed over, script cache
 * flushed) send the source once with `EVAL`, which also caches it again. Each call carries a new
 * request key, so a command the client re-sends after a reconnect is answered, not redone.
 */
export async function runScript(
  client: RedisClientLike,
  script: LuaScript,
  root: string,
  args: readonly RedisArgument[],
): Promise<unknown> {
  const request = `${root}requests:${randomUUID()}`;
  try {
    return await client.call('evalsha', script.sha, 2, root, request, ...args);
  } catch (error) {
    if (!isNoScript(error)) throw error;
    return client.call('eval', script.source, 2, root, request, ...args);
  }
}

/** Load every script into the server's cache in one round trip (idempotent). */
export async function loadScripts(client: RedisClientLike): Promise<void> {
  const scripts = Object.values(SCRIPTS);
  const pipeline = client.pipeline();
  for (const script of scripts) pipeline.call('script', 'load', script.source);
  const shas = await execPipeline(pipeline);
  scripts.forEach((script, index) => {
    // A different SHA means the server hashed other bytes than we did: EVALSHA would never match.
    if (shas[index] !== script.sha)
      throw new Error(
        `redis returned SHA ${String(shas[index])} for script ${script.name}, expected ${script.sha}`,
      );
  });
}
