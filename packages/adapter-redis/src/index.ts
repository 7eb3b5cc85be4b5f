import type { Store } from '@cronkeeper/core';
import type { RedisStoreOptions } from './options.js';
import { RedisStore } from './redis-store.js';

export type { RedisArgument, RedisClientLike, RedisPipelineLike, RedisSubscriberLike } from './client.js';
export type { RedisStoreOptions } from './options.js';
export { redisStoreOptionsSchema } from './options.js';

/**
 * A Store on Redis through your ioredis client: jobs and runs in hashes, time-ordered sorted sets
 * for what is due, and one Lua script per lifecycle step, so any number of instances share the
 * work. Wake-ups travel over pub/sub. Throws `ValidationError` on bad options.
 */
export function redisStore(options: RedisStoreOptions): Store {
  return new RedisStore(options);
}
