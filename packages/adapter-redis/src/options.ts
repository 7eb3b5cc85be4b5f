import { ValidationError } from '@cronkeeper/core';
import { z } from 'zod';
import type { RedisClientLike } from './client.js';

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /**
   * Your ioredis client. The store sends its commands on it and never closes it; it only
   * `duplicate()`s it for the pub/sub connection, which it closes in `close()`.
   */
  redis: RedisClientLike;
  /**
   * Prefix of every key (and of the events channel). Give each application (or test) its own.
   * Keep the braces: they are a hash tag that makes every key hash to one slot, which the
   * multi-key scripts need on Redis Cluster (required there) or a proxied Redis.
   * @default '{cronkeeper}'
   */
  prefix?: string;
  /**
   * Called with errors of the pub/sub connection the store opened (it reconnects by itself, and
   * the scheduler keeps polling meanwhile) and with messages on the events channel that are not
   * store events. Calls to the store never report here: they reject.
   * @default writes one line per error with console.warn
   */
  onError?: (error: Error) => void;
}

const isFunction = (value: unknown): boolean => typeof value === 'function';

const clientSchema = z.custom<RedisClientLike>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    isFunction((value as Record<string, unknown>).call) &&
    isFunction((value as Record<string, unknown>).pipeline) &&
    isFunction((value as Record<string, unknown>).duplicate),
  { message: 'must be an ioredis client (an object with call(), pipeline() and duplicate())' },
);

/** The schema of {@link RedisStoreOptions}, parsed when the store is created. */
export const redisStoreOptionsSchema = z.strictObject({
  redis: clientSchema,
  prefix: z
    .string()
    .min(1, 'must not be empty')
    .max(200, 'must be at most 200 characters')
    // `*`, not `+`: an empty prefix is told once, by `min`.
    .regex(/^\S*$/, 'must not contain whitespace')
    .default('{cronkeeper}'),
  onError: z.custom<(error: Error) => void>(isFunction, { message: 'must be a function' }).optional(),
});

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Compile-time guard: the documented interface and the schema accept the same input. */
export const optionsMatchSchema: Same<RedisStoreOptions, z.input<typeof redisStoreOptionsSchema>> = true;

/** Parsed options. */
export type ParsedRedisStoreOptions = z.output<typeof redisStoreOptionsSchema>;

/**
 * The hash tag Redis Cluster hashes a key by when the key starts with `root`, or null when the
 * tag would depend on the rest of the key: Redis takes the text between the first `{` and the
 * first `}` after it, if that is not empty, and otherwise the whole key.
 */
export function hashTagOf(root: string): string | null {
  const open = root.indexOf('{');
  if (open === -1) return null;
  const close = root.indexOf('}', open + 1);
  if (close === -1 || close === open + 1) return null;
  return root.slice(open + 1, close);
}

/** What keeps the store from working on a Redis Cluster client, as validation issues. */
function clusterIssues(options: ParsedRedisStoreOptions): { path: string; message: string }[] {
  if (options.redis.isCluster !== true) return [];
  const issues: { path: string; message: string }[] = [];
  const keyPrefix = options.redis.options?.keyPrefix ?? '';
  if (hashTagOf(`${keyPrefix}${options.prefix}`) === null)
    issues.push({
      path: 'prefix',
      message:
        `on Redis Cluster ${keyPrefix ? `the client's keyPrefix "${keyPrefix}" followed by ` : ''}the prefix ` +
        `"${options.prefix}" must contain a hash tag such as {cronkeeper}, so every key of the store ` +
        'hashes to one slot (each step is one script over many keys)',
    });
  const scaleReads = options.redis.options?.scaleReads;
  if (scaleReads !== undefined && scaleReads !== 'master')
    issues.push({
      path: 'redis',
      message:
        "the cluster client reads from replicas (scaleReads is not 'master'): replicas lag behind their " +
        "primary, so the store could miss a write it just made; give the store a Cluster with scaleReads: 'master'",
    });
  return issues;
}

/** Parsed options, or a `ValidationError` naming each offending field. */
export function parseRedisStoreOptions(options: unknown): ParsedRedisStoreOptions {
  const result = redisStoreOptionsSchema.safeParse(options ?? {});
  if (result.success) {
    const issues = clusterIssues(result.data);
    if (issues.length > 0) throw new ValidationError(issues);
    return result.data;
  }
  throw ValidationError.fromOptions('redisStore', result.error, {
    known: Object.keys(redisStoreOptionsSchema.shape),
  });
}
