import type { StoreEvent } from '@cronkeeper/core';
import type { RedisClientLike, RedisSubscriberLike } from './client.js';
import { EVENTS_PER_MESSAGE, encodeStoreEvents, parseStoreEvents } from './event-schema.js';

interface Subscription {
  listener: (event: StoreEvent) => void;
}

/**
 * Origin of the `wake` the store hands its own listeners after the pub/sub connection came back:
 * events published while it was down are lost (pub/sub does not queue), so the scheduler should
 * look at the store now rather than at its next poll.
 */
export const RESUBSCRIBED_ORIGIN = 'cronkeeper:redis-resubscribed';

/**
 * Store events over Redis pub/sub: `PUBLISH` on the user's client, `SUBSCRIBE` on one connection
 * this store opens with `duplicate()` when the first listener arrives and closes with the last.
 * On Redis Cluster a `PUBLISH` reaches the subscribers of every node, so the subscriber may sit
 * on any node.
 * ioredis re-subscribes after a reconnect (`autoResubscribe`, forced on); the `ready` handler
 * subscribes again as well (a repeated `SUBSCRIBE` is a no-op), so the channel comes back even if
 * the client's own resubscription is off or fails, then hands listeners a `wake`.
 */
export class RedisEvents {
  readonly #listeners = new Set<Subscription>();
  #subscriber: RedisSubscriberLike | null = null;
  #opening: Promise<RedisSubscriberLike> | null = null;
  /** Bumped by `close()`, so a connection still opening when it ran never becomes the current one. */
  #generation = 0;

  /**
   * `publishInOrder` publishes messages from one node, in order; given for a Redis Cluster client,
   * whose plain PUBLISH goes to any node (see `lua/events.ts`).
   */
  constructor(
    private readonly client: RedisClientLike,
    private readonly channel: string,
    private readonly onError: (error: Error) => void,
    private readonly publishInOrder?: (channel: string, messages: string[]) => Promise<unknown>,
  ) {}

  /** One message per `EVENTS_PER_MESSAGE` events: a command for Redis and a message to parse. */
  async publish(events: readonly StoreEvent[]): Promise<void> {
    const messages: string[] = [];
    for (let at = 0; at < events.length; at += EVENTS_PER_MESSAGE)
      messages.push(encodeStoreEvents(events.slice(at, at + EVENTS_PER_MESSAGE)));
    if (messages.length === 0) return;
    if (this.publishInOrder) {
      await this.publishInOrder(this.channel, messages);
      return;
    }
    for (const message of messages) await this.client.call('publish', this.channel, message);
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
    this.#generation += 1;
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
    const generation = this.#generation;
    // A Cluster's duplicate takes (startup nodes, options); its subscriber connection moves to
    // another node by itself when its node fails, and subscribes there again.
    const subscriber = this.client.isCluster
      ? this.client.duplicate([], {})
      : this.client.duplicate({ autoResubscribe: true });
    subscriber.on('message', (channel, message) => {
      if (channel === this.channel) this.#deliver(message);
    });
    subscriber.on('error', (error) => this.onError(error));
    subscriber.on('ready', () => {
      // The first 'ready' is the initial connection, subscribed below.
      if (this.#subscriber !== subscriber) return;
      subscriber.subscribe(this.channel).then(
        () => {
          if (this.#subscriber === subscriber) this.#dispatch({ type: 'wake', origin: RESUBSCRIBED_ORIGIN });
        },
        (error: unknown) => this.onError(asError(error)),
      );
    });
    try {
      await subscriber.subscribe(this.channel);
    } catch (error) {
      subscriber.disconnect();
      throw error;
    }
    if (generation === this.#generation) this.#subscriber = subscriber;
    return subscriber;
  }

  #deliver(message: string): void {
    const events = parseStoreEvents(message);
    if (events instanceof Error) this.onError(events);
    else for (const event of events) this.#dispatch(event);
  }

  #dispatch(event: StoreEvent): void {
    // Each listener gets its own copy. A store event's fields are all strings or null, so a
    // shallow copy is a whole one (and far cheaper than structuredClone on every event).
    for (const subscription of [...this.#listeners]) {
      try {
        subscription.listener({ ...event });
      } catch (error) {
        this.onError(asError(error));
      }
    }
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
