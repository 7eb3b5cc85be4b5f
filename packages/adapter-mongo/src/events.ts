import { randomUUID } from 'node:crypto';
import type { StoreEvent } from '@cronkeeper/core';
import type { ChangeStream, ChangeStreamInsertDocument, Collection } from 'mongodb';

/** A published event as stored; a TTL index removes it after an hour (`at` is wall-clock time). */
export interface EventDocument {
  _id: string;
  event: StoreEvent;
  at: Date;
}

type InsertStream = ChangeStream<EventDocument, ChangeStreamInsertDocument<EventDocument>>;

const EVENT_TYPES = new Set(['wake', 'run', 'cancel', 'job']);
/** Wait before reopening a change stream the driver could not resume. */
const REOPEN_DELAY_MS = 1_000;

/** The event in a stored document, or an error when it is not one. */
export function readEvent(doc: { event?: unknown } | undefined): StoreEvent {
  const event = doc?.event as StoreEvent | undefined;
  if (typeof event !== 'object' || event === null || !EVENT_TYPES.has(event.type))
    throw new Error(`not a store event: ${JSON.stringify(doc?.event)?.slice(0, 200)}`);
  return event;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Store events over MongoDB: `publish` inserts into the events collection; one change stream per
 * store instance, opened with the first listener and closed with the last, delivers the inserts.
 * The driver resumes the stream after transient errors by itself; after any other error the
 * stream is reopened (events published meanwhile are missed, and the scheduler's polling covers them).
 */
export class MongoEvents {
  readonly #listeners = new Set<{ listener: (event: StoreEvent) => void }>();
  #stream: InsertStream | null = null;
  #opening: Promise<void> | null = null;

  constructor(
    private readonly collection: Collection<EventDocument>,
    private readonly onError: (error: Error) => void,
  ) {}

  async publish(events: readonly StoreEvent[]): Promise<void> {
    if (events.length === 0) return;
    const at = new Date();
    // Ordered, so the change stream hands them to subscribers in the order they were published.
    await this.collection.insertMany(
      events.map((event) => ({ _id: randomUUID(), event, at })),
      { ordered: true },
    );
  }

  async subscribe(listener: (event: StoreEvent) => void): Promise<() => Promise<void>> {
    const subscription = { listener };
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

  /** Close the change stream, if one is open (or opening: `#start` sets it before its first await). */
  async close(): Promise<void> {
    this.#listeners.clear();
    const stream = this.#stream;
    this.#stream = null;
    this.#opening = null;
    await stream?.close();
  }

  #open(): Promise<void> {
    this.#opening ??= this.#start().catch((error: unknown) => {
      this.#opening = null;
      throw error;
    });
    return this.#opening;
  }

  async #start(): Promise<void> {
    const stream: InsertStream = this.collection.watch<
      EventDocument,
      ChangeStreamInsertDocument<EventDocument>
    >([{ $match: { operationType: 'insert' } }]);
    this.#stream = stream;
    try {
      // The first call opens the server-side cursor: every insert after it returns is delivered.
      const first = await stream.tryNext();
      if (first) this.#deliver(first.fullDocument);
    } catch (error) {
      if (this.#stream === stream) this.#stream = null;
      await stream.close().catch(() => undefined);
      throw error;
    }
    void this.#pump(stream);
  }

  async #pump(stream: InsertStream): Promise<void> {
    while (this.#stream === stream) {
      let change: ChangeStreamInsertDocument<EventDocument>;
      try {
        change = await stream.next();
      } catch (error) {
        if (this.#stream !== stream) return; // closed on purpose
        this.onError(asError(error));
        this.#stream = null;
        this.#opening = null;
        await stream.close().catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, REOPEN_DELAY_MS));
        if (this.#listeners.size > 0) this.#open().catch((reopen: unknown) => this.onError(asError(reopen)));
        return;
      }
      if (this.#stream === stream) this.#deliver(change.fullDocument);
    }
  }

  #deliver(doc: EventDocument | undefined): void {
    let event: StoreEvent;
    try {
      event = readEvent(doc);
    } catch (error) {
      this.onError(asError(error));
      return;
    }
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
