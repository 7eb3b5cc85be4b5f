import { describe } from 'vitest';
import { activeCountsContract } from './active-counts.js';
import { auditContract } from './audit.js';
import { autoPauseContract } from './auto-pause.js';
import { backfillContract } from './backfill.js';
import { bulkContract } from './bulk.js';
import { claimContract } from './claim.js';
import { createRunContract } from './create-run.js';
import { eventsContract } from './events.js';
import { fidelityContract } from './fidelity.js';
import { finishAndClaimContract } from './finish-and-claim.js';
import { fireAndClaimContract } from './fire-and-claim.js';
import { firingContract } from './firing.js';
import { type StoreHarness, useFixture } from './harness.js';
import { historyContract } from './history.js';
import { jobWritesContract } from './job-writes.js';
import { jobsContract } from './jobs.js';
import { leasesContract } from './leases.js';
import { lifecycleContract } from './lifecycle.js';
import { maintenanceContract } from './maintenance.js';
import { racesContract } from './races.js';
import { firingRacesContract } from './races-firing.js';
import { rateLimitContract } from './rate-limit.js';
import { atomicRateLimitContract } from './rate-limits-atomic.js';
import { recoveryContract } from './recovery.js';
import { tenantMaintenanceContract } from './tenant-maintenance.js';
import { terminalTasksContract } from './terminal-tasks.js';

/**
 * The Store contract: registers the whole suite under `describe('Store contract: <name>')`.
 * Every adapter runs it and must pass it whole. Each test starts from `harness.setup()` (an empty
 * database), opens store instances with `harness.createStore()`, initialises and closes them, and
 * works in fake time around a fixed instant. Groups that depend on an optional feature follow the
 * store's `capabilities`, never its name.
 *
 * @example
 * // test/contract.test.ts of a database-backed adapter
 * runStoreContract('postgres', {
 *   setup: () => resetTestSchema(),                       // empty database before each test
 *   createStore: () => postgresStore({ pool: newPool() }), // a separate connection each call
 *   teardown: () => closePools(),
 *   inspect: { run: (id) => rawRow('runs', id), job: (id) => rawRow('jobs', id) },
 * });
 */
export function runStoreContract(name: string, harness: StoreHarness): void {
  describe(`Store contract: ${name}`, () => {
    const fixture = useFixture(harness);
    lifecycleContract(fixture);
    jobsContract(fixture);
    firingContract(fixture);
    createRunContract(fixture);
    bulkContract(fixture);
    claimContract(fixture);
    leasesContract(fixture);
    finishAndClaimContract(fixture);
    fireAndClaimContract(fixture);
    recoveryContract(fixture);
    historyContract(fixture);
    maintenanceContract(fixture);
    rateLimitContract(fixture);
    atomicRateLimitContract(fixture);
    tenantMaintenanceContract(fixture);
    activeCountsContract(fixture);
    eventsContract(fixture);
    fidelityContract(fixture);
    terminalTasksContract(fixture);
    jobWritesContract(fixture);
    racesContract(fixture);
    firingRacesContract(fixture);
    auditContract(fixture);
    autoPauseContract(fixture);
    backfillContract(fixture);
  });
}
