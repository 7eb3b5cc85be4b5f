import { afterEach, beforeEach } from 'vitest';
import type { Store } from '../store.js';

/** How the contract suite reaches an adapter: a fresh database per test, and store instances on it. */
export interface StoreHarness {
  /** Before each test: make the backing database empty (fresh schema/prefix or truncate). */
  setup(): Promise<void>;
  /**
   * A Store instance on the current test database. Called several times per test to race separate
   * instances (separate connections) on one database. The suite calls init() and close() on each.
   */
  createStore(): Store | Promise<Store>;
  /** After each test (optional). */
  teardown?(): Promise<void>;
  /**
   * Optional raw access to what was stored, to check the store persisted (not just read back).
   * Each returns the record in the backend's own shape (row, document, hash) or null when absent;
   * the suite only looks for values in it (a status, a name), never at field names.
   */
  inspect?: {
    run(id: string): Promise<Record<string, unknown> | null>;
    job(id: string): Promise<Record<string, unknown> | null>;
  };
}

/** What each contract test works with: store instances on one fresh database. */
export interface ContractFixture {
  /** The test's first instance, initialised. */
  readonly store: Store;
  /** `count` initialised instances on the same database, the first being {@link store}. */
  instances(count: number): Promise<Store[]>;
  /** A further instance that has not been initialised (for `init()` tests). */
  uninitialised(): Promise<Store>;
  /** The harness's raw access, if it has one. */
  readonly inspect: StoreHarness['inspect'];
}

/** Registers the per-test lifecycle and returns an accessor for the current test's fixture. */
export function useFixture(harness: StoreHarness): () => ContractFixture {
  let current: ContractFixture | null = null;
  let opened: Store[] = [];

  const open = async (): Promise<Store> => {
    const store = await harness.createStore();
    opened.push(store);
    return store;
  };
  const openInitialised = async (): Promise<Store> => {
    const store = await open();
    await store.init();
    return store;
  };

  beforeEach(async () => {
    await harness.setup();
    const store = await openInitialised();
    const extra: Store[] = [];
    current = {
      store,
      inspect: harness.inspect,
      async instances(count) {
        while (extra.length < count - 1) extra.push(await openInitialised());
        return [store, ...extra.slice(0, count - 1)];
      },
      uninitialised: open,
    };
  });

  afterEach(async () => {
    const stores = opened;
    opened = [];
    current = null;
    try {
      // Closing reports its failures: a store that cannot close cleanly fails the test.
      await Promise.all(stores.map((store) => store.close()));
    } finally {
      await harness.teardown?.();
    }
  });

  return () => {
    if (!current) throw new Error('the contract fixture is only available inside a test');
    return current;
  };
}
