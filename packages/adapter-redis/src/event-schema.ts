import type { JobChange, RunStatus, StoreEvent } from '@cronkeeper/core';
import { z } from 'zod';

const RUN_STATUSES = [
  'pending',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'skipped',
] as const satisfies readonly RunStatus[];
const JOB_CHANGES = [
  'created',
  'updated',
  'deleted',
  'paused',
  'resumed',
] as const satisfies readonly JobChange[];

const text = z.string().min(1).max(1_000);
const tenantId = z.string().max(1_000).nullable();

/**
 * What a message on the events channel must look like. Anything else on the channel (another
 * version of the library, a stray `PUBLISH`) is reported through `onError`, never delivered.
 */
export const storeEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('wake'), origin: text }),
  z.object({
    type: z.literal('run'),
    origin: text,
    runId: text,
    status: z.enum(RUN_STATUSES),
    tenantId,
  }),
  z.object({ type: z.literal('cancel'), origin: text, runId: text }),
  z.object({
    type: z.literal('job'),
    origin: text,
    jobId: text,
    name: text,
    tenantId,
    change: z.enum(JOB_CHANGES),
  }),
]);

/** The event in a channel message, or an Error saying why it is not one. */
export function parseStoreEvent(message: string): StoreEvent | Error {
  let json: unknown;
  try {
    json = JSON.parse(message);
  } catch (error) {
    return new Error(`not a store event (invalid JSON): ${message.slice(0, 200)}`, { cause: error });
  }
  const result = storeEventSchema.safeParse(json);
  if (result.success) return result.data;
  return new Error(
    `not a store event (${result.error.issues[0]?.message ?? 'invalid'}): ${message.slice(0, 200)}`,
    {
      cause: result.error,
    },
  );
}
