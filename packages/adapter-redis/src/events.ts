import type { StoreEvent } from '@cronkeeper/core';
import type { RedisClientLike, RedisSubscriberLike } from './client.js';

interface Subscription {
  listener: (event: StoreEvent) => void;
}

const EVENT_TYPES = new Set(['wake', 'run', 'job']);

function parseEvent(message: string): StoreEvent {
  const event = JSON.parse(message) as StoreEvent;
  if (typeof event !== 'object' || event === null || !EVENT_TYPES.has(event.type))
    throw new Error(`not a store event: ${message.slice(0, 200)}`);
  return event;
}

/**
 * Store events over Redis pub/sub: `PUBLISH` on the user's client, `SUBSCRIBE` on one connection
 * this store opens with `duplicate()` when the first listener arrives and closes with the last.
 * ioredis re-subscribes after a reconnect (`autoResubscribe`, forced on); the `ready` handler
 * subscribes again as well, which is harmless when it already did.
 */
export class RedisEvents {
  readonly #listeners = new Set<Subscription>();
  #subscriber: RedisSubscriberLike | null = null;
  #opening: Promise<RedisSubscriberLike> | null = null;

  constructor(
    private readonly client: RedisClientLike,
    private readonly channel: string,
    private readonly onError: (error: Error) => void,
  ) {}

  async publish(event: StoreEvent): Promise<void> {
    await this.client.call('publish', this.channel, JSON.stringify(event));
  }

  async subscribe(listener: (event: StoreEvent) => void): Promise<() => Promise<void>> {
    const subscription: Subscription = { listener };
    this.#listeners.add(subscription);
    try {
      await this.#open();
    } catch (error) {
      this.#listeners.delete(subscription);
      throw error;
    }
    return async () => {
      if (!this.#listeners.delete(subscription)) return;
      if (this.#listeners.size === 0) await this.close();
    };
  }

  /** Close the pub/sub connection, if this store opened one. */
  async close(): Promise<void> {
    this.#listeners.clear();
    const opening = this.#opening;
    this.#opening = null;
    this.#subscriber = null;
    if (!opening) return;
    const subscriber = await opening.catch(() => null);
    if (!subscriber) return;
    try {
      await subscriber.quit();
    } catch {
      // quit fails when the connection is already down; dropping it is then all there is to do.
      subscriber.disconnect();
    }
  }

  #open(): Promise<RedisSubscriberLike> {
    this.#opening ??= this.#connect().catch((error: unknown) => {
      this.#opening = null;
      throw error;
    });
    return this.#opening;
  }

  async #connect(): Promise<RedisSubscriberLike> {
    const subscriber = this.client.duplicate({ autoResubscribe: true });
    subscriber.on('message', (channel, message) => {
      if (channel === this.channel) this.#deliver(message);
    });
    subscriber.on('error', (error) => this.onError(error));
    subscriber.on('ready', () => {
      if (this.#subscriber !== subscriber) return;
      subscriber.subscribe(this.channel).catch((error: unknown) => this.onError(asError(error)));
    });
    try {
      await subscriber.subscribe(this.channel);
    } catch (error) {
      subscriber.disconnect();
      throw error;
    }
    this.#subscriber = subscriber;
    return subscriber;
  }

  #deliver(message: string): void {
    let event: StoreEvent;
    try {
      event = parseEvent(message);
    } catch (error) {
      this.onError(asError(error));
      return;
    }
    for (const subscription of [...this.#listeners]) {
      try {
        subscription.listener(structuredClone(event));
      } catch (error) {
        this.onError(asError(error));
      }
    }
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
