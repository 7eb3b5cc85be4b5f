import { ValidationError } from '@cronkeeper/core';
import type { Db } from 'mongodb';
import { z } from 'zod';

/** The part of the driver's `Db` the store uses: `client.db(name)` fits. */
export type MongoDbLike = Pick<Db, 'collection' | 'command'>;

const isFunction = (value: unknown): boolean => typeof value === 'function';

const dbSchema = z.custom<MongoDbLike>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    isFunction((value as Record<string, unknown>).collection) &&
    isFunction((value as Record<string, unknown>).command),
  { message: 'must be a MongoDB database handle (client.db(name) from the mongodb driver)' },
);

/** Options of {@link mongoStore}, validated when the store is created. */
export const mongoStoreOptionsSchema = z.strictObject({
  /**
   * Your database handle, `client.db(name)`. The store opens its collections on it and never
   * closes it (nor the client): that stays yours.
   */
  db: dbSchema,
  /**
   * Prefix of the store's collection names: `<prefix>jobs`, `<prefix>runs`, `<prefix>rate_limits`
   * and `<prefix>events`. Letters, digits, `_`, `-` and `.` only.
   * @default 'cronkeeper_'
   */
  collectionPrefix: z
    .string()
    .min(1, 'must not be empty')
    .max(64, 'must be at most 64 characters')
    .regex(/^[A-Za-z0-9_.-]+$/, 'may contain only letters, digits, "_", "-" and "."')
    .refine((prefix) => !prefix.startsWith('system.'), 'must not start with "system." (reserved by MongoDB)')
    .default('cronkeeper_'),
  /**
   * Wake other instances through a change stream on the events collection when the deployment
   * supports it (a replica set or sharded cluster, detected by `init()`). `false` keeps polling
   * only, e.g. when the database user may not open change streams.
   * @default true
   */
  changeStreams: z.boolean().default(true),
  /**
   * Called with errors of the change stream (the store reopens it, and the scheduler keeps
   * polling meanwhile) and with events that could not be read.
   * @default writes one line per error with console.warn
   */
  onError: z.custom<(error: Error) => void>(isFunction, { message: 'must be a function' }).optional(),
});

/** Options of {@link mongoStore}. */
export type MongoStoreOptions = z.input<typeof mongoStoreOptionsSchema>;

/** Parsed options. */
export type ParsedMongoStoreOptions = z.output<typeof mongoStoreOptionsSchema>;

/** Parsed options, or a `ValidationError` naming each offending field. */
export function parseMongoStoreOptions(options: unknown): ParsedMongoStoreOptions {
  const result = mongoStoreOptionsSchema.safeParse(options ?? {});
  if (result.success) return result.data;
  throw ValidationError.fromOptions('mongoStore', result.error, {
    known: Object.keys(mongoStoreOptionsSchema.shape),
  });
}
