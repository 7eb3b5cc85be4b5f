import type { StoreEvent } from '@cronkeeper/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EVENT_TEXT_MAX, parseStoreEvents, storeEventSchema } from '../src/event-schema.js';

const run = { type: 'run', origin: 'instance-a', runId: 'r1', status: 'succeeded', tenantId: null };
const long = 'x'.repeat(EVENT_TEXT_MAX + 1);
const atMax = 'y'.repeat(EVENT_TEXT_MAX);

/** Run events, well and badly formed, as one event or in a list with others. */
const MESSAGES: unknown[] = [
  run,
  { ...run, tenantId: 'acme' },
  { ...run, tenantId: '' },
  { ...run, tenantId: atMax, origin: atMax, runId: atMax },
  { ...run, extra: 'dropped', nested: { a: 1 } },
  ...['pending', 'running', 'failed', 'cancelled', 'skipped'].map((status) => ({ ...run, status })),
  [run, { ...run, runId: 'r2', status: 'failed' }],
  [run, { type: 'wake', origin: 'b' }],
  [{ type: 'wake', origin: 'b' }, run],
  // Refused, each for one field:
  { ...run, tenantId: undefined },
  { ...run, tenantId: 7 },
  { ...run, tenantId: long },
  { ...run, origin: '' },
  { ...run, origin: long },
  { ...run, origin: 1 },
  { ...run, runId: undefined },
  { ...run, runId: '' },
  { ...run, status: 'done' },
  { ...run, status: null },
  { ...run, type: 'Run' },
  [run, null],
  [run, [run]],
  [run, 'run'],
  [],
  null,
  42,
];

describe('store event messages', () => {
  it.each(MESSAGES.map((message) => [JSON.stringify(message) ?? String(message), message]))(
    'reads %s as the schema does',
    (text) => {
      const json: unknown = JSON.parse(text);
      const expected = z.array(storeEventSchema).safeParse(Array.isArray(json) ? json : [json]);
      const parsed = parseStoreEvents(text);
      if (expected.success) expect(parsed).toEqual(expected.data);
      else expect(parsed).toBeInstanceOf(Error);
    },
  );

  it('gives each event only the fields an event has, in a new object', () => {
    const parsed = parseStoreEvents(JSON.stringify([{ ...run, extra: 1 }])) as StoreEvent[];
    expect(parsed).toEqual([run]);
    expect(Object.keys(parsed[0] as object)).toEqual(['type', 'origin', 'runId', 'status', 'tenantId']);
  });
});
