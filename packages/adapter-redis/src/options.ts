import { ValidationError } from '@cronkeeper/core';
import { z } from 'zod';
import type { RedisClientLike } from './client.js';

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

/** Options of {@link redisStore}, validated when the store is created. */
export const redisStoreOptionsSchema = z.strictObject({
  /**
   * Your ioredis client. The store sends its commands on it and never closes it; it only
   * `duplicate()`s it for the pub/sub connection, which it closes in `close()`.
   */
  redis: clientSchema,
  /**
   * Prefix of every key (and of the events channel). Keep the braces on Redis Cluster: they make
   * every key hash to one slot, which the store's multi-key scripts need.
   * @default '{cronkeeper}'
   */
  prefix: z
    .string()
    .min(1, 'must not be empty')
    .max(200, 'must be at most 200 characters')
    .regex(/^[^\s]+$/, 'must not contain whitespace')
    .default('{cronkeeper}'),
  /**
   * Called with errors of the pub/sub connection the store opened (it reconnects by itself, and
   * the scheduler keeps polling meanwhile) and with events that could not be read.
   * @default writes one line per error with console.warn
   */
  onError: z.custom<(error: Error) => void>(isFunction, { message: 'must be a function' }).optional(),
});

/** Options of {@link redisStore}. */
export type RedisStoreOptions = z.input<typeof redisStoreOptionsSchema>;

/** Parsed options. */
export type ParsedRedisStoreOptions = z.output<typeof redisStoreOptionsSchema>;

/** Parsed options, or a `ValidationError` naming each offending field. */
export function parseRedisStoreOptions(options: unknown): ParsedRedisStoreOptions {
  const result = redisStoreOptionsSchema.safeParse(options ?? {});
  if (result.success) return result.data;
  throw new ValidationError(
    result.error.issues.map((issue) => ({
      path: issue.path.map(String).join('.'),
      message: issue.message,
    })),
    { cause: result.error },
  );
}
