import type { Job, Run } from '@cronkeeper/core';
import type { Meter } from './heap.js';

/** Read-only access to a memory store's own state, for this package's tests (not exported publicly). */
export interface MemoryInternals {
  /** Items examined by the time-indexed lookups since the store was created. */
  meter: Readonly<Meter>;
  /** The stored run itself (not a copy): do not change it. */
  run(id: string): Run | null;
  /** The stored job itself (not a copy): do not change it. */
  job(id: string): Job | null;
}

const registry = new WeakMap<object, MemoryInternals>();

/** Called by the store's constructor. */
export function registerInternals(store: object, internals: MemoryInternals): void {
  registry.set(store, internals);
}

/** The internals of a store made by `memoryStore()`. */
export function memoryInternals(store: object): MemoryInternals {
  const internals = registry.get(store);
  if (!internals) throw new TypeError('memoryInternals: not a store created by memoryStore()');
  return internals;
}
