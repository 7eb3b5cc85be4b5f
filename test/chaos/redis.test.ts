import { storeAvailable } from './stores.js';
import { chaosSuite } from './suite.js';

// Multi-process reliability on Redis; gated on CRONKEEPER_REDIS_URL like the adapter's own suites.
chaosSuite('redis', storeAvailable('redis'));
