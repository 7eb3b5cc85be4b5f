/** An argument of a Redis command. */
export type RedisArgument = string | number | Buffer;

/**
 * The Redis client the store uses, typed structurally: an ioredis `Redis` fits, and so does an
 * ioredis `Cluster` (see docs/redis.md for the options a cluster needs), or any client with the
 * same `call` / `pipeline` / `duplicate` shape.
 */
export interface RedisClientLike {
  /** Send one command and resolve with its raw reply. */
  call(command: string, ...args: RedisArgument[]): Promise<unknown>;
  /** Batch commands in one round trip (not a transaction). */
  pipeline(): RedisPipelineLike;
  /**
   * A new connection with the same options, used for `SUBSCRIBE`; the store closes it. Called as
   * `duplicate({ autoResubscribe: true })` on a client, and as `duplicate([], {})` (same startup
   * nodes and options) when `isCluster` is true.
   */
  duplicate(overrides?: unknown, clusterOverrides?: unknown): RedisSubscriberLike;
  /** True on an ioredis `Cluster`: the store then checks the prefix and read routing below. */
  readonly isCluster?: boolean;
  /** The client's options, read (never changed) for the cluster checks. */
  readonly options?: RedisClientOptionsLike;
}

/** The options of an ioredis client or cluster that decide where the store's keys and reads go. */
export interface RedisClientOptionsLike {
  /** ioredis prepends it to every key the store sends (scripts build theirs from one of those). */
  keyPrefix?: string | undefined;
  /** On a cluster, where read-only commands go: the store needs `'master'`. */
  scaleReads?: unknown;
}

/** A batch of commands sent in one round trip. */
export interface RedisPipelineLike {
  /** Queue one command. */
  call(command: string, ...args: RedisArgument[]): unknown;
  /** Send the batch; each entry is `[error, reply]`. */
  exec(): Promise<[Error | null, unknown][] | null>;
}

/** The connection the store opens (with `duplicate()`) to receive events. */
export interface RedisSubscriberLike {
  /** Enter subscriber mode on these channels; resolves once the server confirmed. */
  subscribe(...channels: string[]): Promise<unknown>;
  /** A message arrived on a subscribed channel. */
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  /** The connection is (again) ready for commands: emitted after each reconnect. */
  on(event: 'ready', listener: () => void): unknown;
  /** A connection error; the client keeps reconnecting by itself. */
  on(event: 'error', listener: (error: Error) => void): unknown;
  /** Close gracefully (QUIT). */
  quit(): Promise<unknown>;
  /** Close at once, when QUIT cannot be sent. */
  disconnect(): void;
}

/** Run a pipeline and return its replies, rejecting with the first command error. */
export async function execPipeline(pipeline: RedisPipelineLike): Promise<unknown[]> {
  const results = await pipeline.exec();
  if (results === null) throw new Error('redis pipeline was discarded (the connection closed)');
  return results.map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}
