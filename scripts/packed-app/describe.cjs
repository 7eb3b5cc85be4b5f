// The same as describe.mjs, through require.
const assert = require('node:assert/strict');
const { parseSchedule } = require('@cronkeeper/core');

assert.equal(parseSchedule('0 9 * * MON').describe(), 'At 09:00, only on Monday');
assert.equal(parseSchedule('0 9 * * *').describe('fr'), 'À 09:00');
