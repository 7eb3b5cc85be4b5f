import { randomUUID } from 'node:crypto';
import type { RateLimitSpec, RateLimitVerdict, Run, RunError, TenantIds } from '@cronkeeper/core';
import { decodeRun } from './codec.js';
import type { RedisContext } from './context.js';
import { tenantToken } from './keys.js';
import { SCRIPTS } from './scripts.js';

/** Runs failed or pruned per script call, so one call never blocks Redis for long; callers loop until a batch comes back short. */
const BATCH = 500;
/** Rate-limit keys outlive their window by this much (a safety net; the window itself decides). */
const RATE_LIMIT_SLACK_MS = 60_000;

const ms = (date: Date): string => String(date.getTime());

/** The stale-run sweep, by `startedAt` on the running index: only running runs are looked at. */
export async function failStaleRuns(
  ctx: RedisContext,
  input: { startedBefore: Date; now: Date; error: RunError; tenantIds?: TenantIds },
): Promise<Run[]> {
  const tenants = input.tenantIds ? [...new Set(input.tenantIds.map(tenantToken))] : null;
  if (tenants?.length === 0) return [];
  const failed: Run[] = [];
  // Other tenants' runs stay in the running index: each batch starts past those already passed over.
  let offset = 0;
  for (;;) {
    const [looked, runs, passed] = (await ctx.run(SCRIPTS.failStaleRuns, [
      ms(input.startedBefore),
      ms(input.now),
      JSON.stringify(input.error),
      input.error.message,
      String(BATCH),
      String(offset),
      String(tenants?.length ?? 0),
      ...(tenants ?? []),
    ])) as [number, unknown[], number];
    failed.push(...runs.map((reply) => decodeRun(reply) as Run));
    offset += Number(passed);
    if (looked < BATCH) return failed;
  }
}

/** Retention by age, walking the finished indexes by `finishedAt`: never a scan of every key. */
export async function pruneRuns(
  ctx: RedisContext,
  input: { finishedBefore: Date; tenantIds?: TenantIds },
): Promise<number> {
  const tenants = input.tenantIds ? [...new Set(input.tenantIds.map(tenantToken))] : null;
  if (tenants?.length === 0) return 0;
  let deleted = 0;
  for (;;) {
    const [looked, count] = (await ctx.run(SCRIPTS.pruneRuns, [
      ms(input.finishedBefore),
      String(BATCH),
      String(tenants?.length ?? 0),
      ...(tenants ?? []),
    ])) as [number, number];
    deleted += count;
    if (looked < BATCH) return deleted;
  }
}

/** Several sliding-window hits counted all together or not at all, in one script. */
export async function consumeRateLimits(
  ctx: RedisContext,
  input: { limits: readonly RateLimitSpec[]; now: Date },
): Promise<RateLimitVerdict> {
  if (input.limits.length === 0) return { allowed: true, retryAfterMs: 0, deniedKey: null };
  const [allowed, retryAfterMs, denied] = (await ctx.run(SCRIPTS.consumeRateLimits, [
    String(input.now.getTime()),
    randomUUID(),
    String(RATE_LIMIT_SLACK_MS),
    String(input.limits.length),
    ...input.limits.flatMap((limit) => [limit.key, String(limit.limit), String(limit.windowMs)]),
  ])) as [number, number, number];
  if (allowed === 1) return { allowed: true, retryAfterMs: 0, deniedKey: null };
  return {
    allowed: false,
    retryAfterMs: Number(retryAfterMs),
    deniedKey: input.limits[Number(denied) - 1]?.key ?? null,
  };
}
