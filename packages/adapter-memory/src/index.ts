import type { Store } from '@cronkeeper/core';
import { MemoryStore } from './memory-store.js';
import type { MemoryStoreOptions } from './options.js';

export type { MemoryStoreOptions } from './options.js';
export { memoryStoreOptionsSchema } from './options.js';

/**
 * A Store kept in this process's memory: for tests and single-process apps. Schedulers that share
 * one instance share its jobs and runs and wake each other through `subscribe`. Nothing survives a
 * restart. Throws `ValidationError` on bad options.
 */
export function memoryStore(options: MemoryStoreOptions = {}): Store {
  return new MemoryStore(options);
}
