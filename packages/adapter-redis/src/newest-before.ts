import { execPipeline, type RedisClientLike } from './client.js';

/**
 * The newest record, across several lexicographic indexes, whose member sorts before `before`
 * (and not before `lower`), or null. `read` loads a member's record, null when it is gone (pruned
 * between the two reads): the walk then looks past it. A tenant-scoped listing that ran out of
 * budget on an index shared by every tenant ends its page here, on one of the caller's own
 * records (its own indexes), instead of on the record it stopped at, which may be another's.
 */
export async function newestBefore<T>(
  client: RedisClientLike,
  indexes: readonly string[],
  before: string,
  lower: string,
  read: (member: string) => Promise<T | null>,
): Promise<T | null> {
  let upper = `(${before}`;
  for (;;) {
    const heads = client.pipeline();
    for (const index of indexes) heads.call('zrevrangebylex', index, upper, lower, 'LIMIT', 0, 1);
    const newest = ((await execPipeline(heads)) as string[][])
      .flatMap((reply) => reply ?? [])
      .sort()
      .at(-1);
    if (newest === undefined) return null;
    const record = await read(newest);
    if (record !== null) return record;
    upper = `(${newest}`;
  }
}
