import { storeAvailable } from './stores.js';
import { chaosSuite } from './suite.js';

// Multi-process reliability on PostgreSQL; gated on CRONKEEPER_PG_URL like the adapter's own suites.
chaosSuite('postgres', storeAvailable('postgres'));
