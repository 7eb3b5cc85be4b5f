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
      name: 'a tenantId query with U+0000 or another control character is a 400 naming tenantId on every listing',
      async run(h) {
        await createJob(h);
        for (const tenant of ['a%00b', 'a%01b', 'a%C2%85b']) {
          for (const path of ['/jobs', '/stats', '/dashboard', '/runs', '/scheduled', '/audit']) {
            expectField(await h.call('GET', `${path}?tenantId=${tenant}`), 'tenantId');
          }
        }
      },
    },
    {
      name: 'a query parameter named __proto__ is refused as an unknown field of that name',
      async run(h) {
        const answer = await h.call('GET', '/jobs?__proto__=x');
        expect(answer.status).toBe(400);
        expect(answer.json.error.message).toMatch(/__proto__/);
      },
    },
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
    {
      name: 'dates that are not ISO 8601, or name no calendar day, are a 400 naming the field and the form to use',
      async run(h) {
        for (const value of ['1', '2027-02-30', '03/04/2027', 'June 5 2027 10:00', '2027-02-01T09:00']) {
          const body = { name: 'd', schedule: 'hourly', executor: 'sync', activeUntil: value };
          expectField(
            await h.call('POST', '/jobs', { body }),
            'activeUntil',
            /use ISO 8601 with Z or an offset, e\.g\. 2027-02-01T09:00:00Z/,
          );
          expectField(await h.call('GET', `/runs?since=${encodeURIComponent(value)}`), 'since', /ISO 8601/);
          expectField(await h.call('GET', `/stats?since=${encodeURIComponent(value)}`), 'since', /ISO 8601/);
        }
        expect((await h.call('GET', '/jobs/d')).status).toBe(404);
        const created = await h.call('POST', '/jobs', {
          body: {
            name: 'd',
            schedule: 'hourly',
            executor: 'sync',
            activeFrom: '2027-02-01',
            activeUntil: '2027-02-01T10:00:00+01:00',
          },
        });
        expect(created.status).toBe(201);
        expect(created.json.data).toMatchObject({
          activeFrom: '2027-02-01T00:00:00.000Z',
          activeUntil: '2027-02-01T09:00:00.000Z',
        });
      },
    },
  ],
};
