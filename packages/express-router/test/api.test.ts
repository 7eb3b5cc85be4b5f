import { ALL_SUITES, runSuites } from '../../http/test/cases/index.js';
import { expressTarget } from './support/express-target.js';

// The shared table of HTTP cases (the same rows the fetch handler passes), against the Express
// adapter over real HTTP.
runSuites(expressTarget, ALL_SUITES);
