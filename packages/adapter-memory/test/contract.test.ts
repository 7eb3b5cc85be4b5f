import { memoryStore } from '@cronkeeper/adapter-memory';
import type { Store } from '@cronkeeper/core';
import { runStoreContract } from '@cronkeeper/core/contract';
import { memoryInternals } from '../src/internals.js';

// One memory store is one database: every instance the suite opens on it is that same store.
let store: Store = memoryStore();
runStoreContract('memory', {
  setup: async () => {
    store = memoryStore();
  },
  createStore: () => store,
  inspect: {
    run: async (id) => copyOf(memoryInternals(store).run(id)),
    job: async (id) => copyOf(memoryInternals(store).job(id)),
  },
});

function copyOf(record: object | null): Record<string, unknown> | null {
  return record ? structuredClone({ ...record }) : null;
}
