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
   * Keep the braces: they make every key hash to one slot, which the multi-key scripts need on a
   * clustered or proxied Redis.
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
    .regex(/^[^\s]+$/, 'must not contain whitespace')
    .default('{cronkeeper}'),
  onError: z.custom<(error: Error) => void>(isFunction, { message: 'must be a function' }).optional(),
});

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Compile-time guard: the documented interface and the schema accept the same input. */
export const optionsMatchSchema: Same<RedisStoreOptions, z.input<typeof redisStoreOptionsSchema>> = true;

/** Parsed options. */
export type ParsedRedisStoreOptions = z.output<typeof redisStoreOptionsSchema>;

/** Parsed options, or a `ValidationError` naming each offending field. */
export function parseRedisStoreOptions(options: unknown): ParsedRedisStoreOptions {
  const result = redisStoreOptionsSchema.safeParse(options ?? {});
  if (result.success) return result.data;
  throw new ValidationError(
    result.error.issues.map((issue) =>
      issue.code === 'unrecognized_keys'
        ? {
            path: issue.keys.join(', '),
            message: 'is not an option of redisStore (known: redis, prefix, onError)',
          }
        : { path: issue.path.map(String).join('.'), message: issue.message },
    ),
    { cause: result.error },
  );
}
