import type { Store } from '@cronkeeper/core';
import { MongoStore } from './mongo-store.js';
import type { MongoStoreOptions } from './options.js';

export { type CollectionNames, collectionNames, INDEXES } from './indexes.js';
export type { MongoDbLike, MongoStoreOptions } from './options.js';
export { mongoStoreOptionsSchema } from './options.js';

/**
 * A Store on MongoDB through your `mongodb` driver `Db`: jobs and runs as documents, each
 * lifecycle step one atomic conditional write, and unique partial indexes that decide every race,
 * so any number of instances share the work (no transactions needed; a standalone server works).
 * On a replica set, instances wake each other through a change stream. Call `init()` (the
 * scheduler does) to create the indexes. Throws `ValidationError` on bad options.
 */
export function mongoStore(options: MongoStoreOptions): Store {
  return new MongoStore(options);
}
