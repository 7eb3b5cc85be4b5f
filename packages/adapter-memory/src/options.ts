import { ValidationError } from '@cronkeeper/core';
import { z } from 'zod';

/** Options of {@link memoryStore}, validated when the store is created. */
export const memoryStoreOptionsSchema = z.strictObject({
  /**
   * Keep at most this many finished runs (succeeded, failed, cancelled, skipped); past it the
   * oldest finished are dropped first. Pending and running runs are never dropped.
   * @default undefined (no cap: rely on the scheduler's retention)
   */
  maxFinishedRuns: z.number().int().positive().optional(),
});

/** Options of {@link memoryStore}. */
export type MemoryStoreOptions = z.input<typeof memoryStoreOptionsSchema>;

/** Parsed options, or a `ValidationError` naming each offending field. */
export function parseMemoryStoreOptions(options: unknown): z.output<typeof memoryStoreOptionsSchema> {
  const result = memoryStoreOptionsSchema.safeParse(options ?? {});
  if (result.success) return result.data;
  throw ValidationError.fromOptions('memoryStore', result.error, {
    known: Object.keys(memoryStoreOptionsSchema.shape),
  });
}
