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

/** The longest origin, id or tenant id an event may carry; the finish script announces nothing longer. */
export const EVENT_TEXT_MAX = 1_000;

const text = z.string().min(1).max(EVENT_TEXT_MAX);
const tenantId = z.string().max(EVENT_TEXT_MAX).nullable();

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
  z.object({
    type: z.literal('cancel'),
    origin: text,
    runId: text,
    by: z.string().max(EVENT_TEXT_MAX).nullish(),
  }),
  z.object({
    type: z.literal('job'),
    origin: text,
    jobId: text,
    name: text,
    tenantId,
    change: z.enum(JOB_CHANGES),
  }),
]);

// Built once: every instance parses every message on the channel, and building a zod schema
// costs more than parsing a message with it.
const storeEventsSchema = z.array(storeEventSchema);

/** Events per channel message at most: a burst goes out in a few messages of bounded size. */
export const EVENTS_PER_MESSAGE = 100;

/** A channel message carrying `events`: the event itself when alone, else an array of them. */
export function encodeStoreEvents(events: readonly StoreEvent[]): string {
  return JSON.stringify(events.length === 1 ? events[0] : events);
}

const STATUSES: ReadonlySet<unknown> = new Set(RUN_STATUSES);
const isText = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0 && value.length <= EVENT_TEXT_MAX;

/**
 * The message's events when every one is a `run` event the schema would accept as it is, else
 * null (the schema then decides, and says why it refuses). Every instance reads every finish
 * announced on the channel, a few per run, and this check costs a tenth of the schema's.
 */
function runEventsOf(items: unknown[]): StoreEvent[] | null {
  const events: StoreEvent[] = [];
  for (const item of items) {
    if (typeof item !== 'object' || item === null) return null;
    const { type, origin, runId, status, tenantId } = item as Record<string, unknown>;
    if (type !== 'run' || !isText(origin) || !isText(runId) || !STATUSES.has(status)) return null;
    if (tenantId !== null && (typeof tenantId !== 'string' || tenantId.length > EVENT_TEXT_MAX)) return null;
    // Built anew, as the schema does: fields it does not know are dropped.
    events.push({ type, origin, runId, status: status as RunStatus, tenantId });
  }
  return events;
}

/** The events in a channel message (one event, or an array of them), or an Error saying why not. */
export function parseStoreEvents(message: string): StoreEvent[] | Error {
  let json: unknown;
  try {
    json = JSON.parse(message);
  } catch (error) {
    return new Error(`not a store event (invalid JSON): ${message.slice(0, 200)}`, { cause: error });
  }
  const items = Array.isArray(json) ? json : [json];
  const runEvents = runEventsOf(items);
  if (runEvents) return runEvents;
  const result = storeEventsSchema.safeParse(items);
  if (result.success) return result.data;
  return new Error(
    `not a store event (${result.error.issues[0]?.message ?? 'invalid'}): ${message.slice(0, 200)}`,
    { cause: result.error },
  );
}
