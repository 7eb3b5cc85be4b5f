import { expect } from 'vitest';
import type { Answer, Harness } from '../support/harness.js';
import type { Suite } from './table.js';

// Text and dates the API takes must mean one thing on every store: refused with the field named
// when they cannot, never stored altered on one store and refused by another.

async function createJob(h: Harness, name = 'j', tenant?: string): Promise<void> {
  const created = await h.call('POST', '/jobs', {
    body: { name, schedule: 'hourly', executor: 'sync' },
    ...(tenant === undefined ? {} : { tenant }),
  });
  expect(created.status).toBe(201);
}

function expectField(answer: Answer, path: string, message?: RegExp): void {
  expect(answer.status, JSON.stringify(answer.json)).toBe(400);
  expect(answer.json.error.code).toBe('VALIDATION');
  expect(answer.json.error.details.issues.map((issue: { path: string }) => issue.path)).toContain(path);
  if (message) expect(answer.json.error.message).toMatch(message);
}

/** Free text, identifiers and dates at the API's edge. */
export const inputTextSuite: Suite = {
  name: 'input text and dates',
  cases: [
    {
      name: 'a pause note with U+0000 or an unpaired surrogate is a 400 naming note, and the job is not paused',
      async run(h) {
        await createJob(h);
        const before = (await h.call('GET', '/jobs/j')).json.data;
        for (const note of ['a\u0000b', 'a\uD800b']) {
          expectField(await h.call('POST', '/jobs/j/pause', { body: { note } }), 'note', /note/);
        }
        expect((await h.call('GET', '/jobs/j')).json.data).toEqual(before);
        const audit = (await h.call('GET', '/audit?job=j')).json.data.items;
        expect(audit.map((entry: { action: string }) => entry.action)).not.toContain('paused');
      },
    },
    {
      name: 'descriptions, paused notes and actor fields with U+0000 are a 400 naming the field on create, PATCH and PUT',
      async run(h) {
        await createJob(h);
        for (const field of ['description', 'pausedNote', 'createdBy', 'updatedBy']) {
          const body = { [field]: 'x\u0000y' };
          expectField(
            await h.call('POST', '/jobs', {
              body: { name: 'k', schedule: 'hourly', executor: 'sync', ...body },
            }),
            field,
          );
          expectField(await h.call('PATCH', '/jobs/j', { body }), field);
          expectField(await h.call('PUT', '/jobs/j', { body }), field);
        }
        expect((await h.call('GET', '/jobs/k')).status).toBe(404);
      },
    },
    {
      name: 'job names with C1 controls or bidirectional formatting characters are a 400 naming name and the character class',
      async run(h) {
        for (const [name, message] of [
          ['\u0085', /control characters/],
          ['a\u009bb', /control characters/],
          ['invoice\u202egpj.exe', /bidirectional formatting characters/],
        ] as const) {
          const body = { name, schedule: 'hourly', executor: 'sync' };
          expectField(await h.call('POST', '/jobs', { body }), 'name', message);
          expectField(await h.call('PUT', `/jobs/${encodeURIComponent(name)}`, { body }), 'name', message);
        }
        expect((await h.call('GET', '/jobs')).json.data).toEqual([]);
      },
    },
  ],
};
