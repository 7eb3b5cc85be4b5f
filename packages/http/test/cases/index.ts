import { authorizationSuite, tenantSuite } from './access.js';
import { eventSuite } from './events.js';
import { hardeningSuite } from './hardening.js';
import { inputTextSuite } from './input-text.js';
import { jobWriteSuite } from './job-writes.js';
import { jobSuite } from './jobs.js';
import { tenantLimitSuite } from './limits.js';
import { malformedSuite } from './malformed.js';
import { backfillLimitsSuite, operationsSuite } from './operations.js';
import { openApiSuite, pageSuite } from './page-openapi.js';
import { runSuite } from './runs.js';
import { csrfSuite, headerSuite } from './security.js';
import type { Suite } from './table.js';
import { triggerSuite } from './trigger.js';

export { type Case, runSuites, type Suite } from './table.js';

/** Every suite of the HTTP API; each adapter's test file runs all of them. */
export const ALL_SUITES: readonly Suite[] = [
  jobSuite,
  jobWriteSuite,
  runSuite,
  triggerSuite,
  authorizationSuite,
  tenantSuite,
  eventSuite,
  malformedSuite,
  pageSuite,
  openApiSuite,
  csrfSuite,
  headerSuite,
  hardeningSuite,
  operationsSuite,
  backfillLimitsSuite,
  tenantLimitSuite,
  inputTextSuite,
];
