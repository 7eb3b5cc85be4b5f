import { ALL_SUITES, runSuites } from './cases/index.js';
import { fetchTarget } from './support/fetch-target.js';

// The shared table of HTTP cases, against the fetch handler called with `Request` objects.
runSuites(fetchTarget, ALL_SUITES);
