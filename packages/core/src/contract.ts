/**
 * `@cronkeeper/core/contract`: the Store contract suite every adapter runs, and the JSON values it
 * round-trips. Registers vitest tests, so it needs `vitest` (an optional peer dependency).
 */
export { runStoreContract } from './testing/contract.js';
export type { StoreHarness } from './testing/harness.js';
export { JSON_SHAPES } from './testing/json-shapes.js';
