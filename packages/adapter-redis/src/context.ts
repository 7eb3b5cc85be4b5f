import { execPipeline, type RedisArgument, type RedisClientLike } from './client.js';
import type { KeyLayout } from './keys.js';
import { type LuaScript, runScript } from './scripts.js';

/** What the store's modules share: the user's client, the key layout, and scripts bound to both. */
export class RedisContext {
  constructor(
    readonly client: RedisClientLike,
    readonly keys: KeyLayout,
  ) {}

  /** Run one script atomically on the server (by SHA, with the NOSCRIPT fallback). */
  run(script: LuaScript, args: readonly RedisArgument[]): Promise<unknown> {
    return runScript(this.client, script, this.keys.root, args);
  }

  /** Read many hashes in one round trip, decoded; absent ones are left out. */
  async readAll<T>(keys: string[], decode: (reply: unknown) => T | null): Promise<T[]> {
    if (keys.length === 0) return [];
    const pipeline = this.client.pipeline();
    for (const key of keys) pipeline.call('hgetall', key);
    const records: T[] = [];
    for (const reply of await execPipeline(pipeline)) {
      const record = decode(reply);
      if (record !== null) records.push(record);
    }
    return records;
  }
}
