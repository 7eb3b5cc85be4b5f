import { ALL_SUITES, runSuites } from '../../../packages/http/test/cases/index.js';
import { honoTarget } from './hono-target.js';

// The shared table of HTTP cases once more, through Hono on Node: what a Hono user gets, events and
// backpressure included, is what the fetch handler promises.
runSuites(honoTarget, ALL_SUITES);
