// Schedules described in words under Node's own ESM loader (not a bundler's or a test runner's):
// the description library is CommonJS, and loaders disagree on its default export.
import assert from 'node:assert/strict';
import { parseSchedule } from '@cronkeeper/core';

assert.equal(parseSchedule('0 9 * * MON').describe(), 'At 09:00, only on Monday');
assert.equal(parseSchedule('0 9 * * *').describe('fr'), 'À 09:00');
