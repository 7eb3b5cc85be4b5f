import type { StoreEvent } from '@cronkeeper/core';
import type { PgNotificationLike, PgPoolClientLike, PgPoolLike } from './driver.js';
import { quoteIdent } from './names.js';
import type { Runner } from './prepared.js';

const EVENT_TYPES = new Set(['wake', 'run', 'cancel', 'job']);
/** First and longest wait before listening again after the connection dropped. */
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;

/** The event sent to listeners once listening resumes, since notifications sent meanwhile are lost. */
export const RESUMED_EVENT: StoreEvent = { type: 'wake', origin: 'cronkeeper-postgres-listener' };

function parseEvent(payload: string | undefined): StoreEvent {
  const event = JSON.parse(payload ?? '') as StoreEvent;
  if (typeof event !== 'object' || event === null || !EVENT_TYPES.has(event.type))
    throw new Error(`not a store event: ${String(payload).slice(0, 200)}`);
  return event;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Send `events` on `channel`, in order, in one statement: one round trip and one commit (which
 * takes a database-wide lock) for the batch. PostgreSQL drops exact duplicates within a
 * transaction, which for these events are redundant.
 */
export async function notifyAll(sql: Runner, channel: string, events: readonly StoreEvent[]): Promise<void> {
  if (events.length === 0) return;
  await sql(
    'SELECT pg_notify($1, payload) FROM unnest($2::text[]) WITH ORDINALITY AS e(payload, n) ORDER BY n',
    [channel, events.map((event) => JSON.stringify(event))],
  );
}

/**
 * Store events over LISTEN/NOTIFY. NOTIFY goes through the pool; LISTEN holds one client checked
 * out of the pool while anyone is subscribed. When that connection drops (server restart,
 * pg_terminate_backend, network), the client is discarded and a new one listens again after a
 * growing delay; listeners then get one `wake` so they look for work announced meanwhile.
 */
export class PgNotifications {
  readonly #listeners = new Set<(event: StoreEvent) => void>();
  #client: PgPoolClientLike | null = null;
  #detach: ((healthy?: boolean) => void) | null = null;
  #opening: Promise<void> | null = null;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #failures = 0;

  constructor(
    private readonly pool: PgPoolLike,
    private readonly channel: string,
    private readonly onError: (error: Error) => void,
  ) {}

  async subscribe(listener: (event: StoreEvent) => void): Promise<() => Promise<void>> {
    const entry = (event: StoreEvent) => listener(event);
    this.#listeners.add(entry);
    try {
      await this.#ensureListening();
    } catch (error) {
      this.#listeners.delete(entry);
      throw error;
    }
    return async () => {
      if (!this.#listeners.delete(entry)) return;
      if (this.#listeners.size === 0) await this.close();
    };
  }

  /** Stop listening and give the client back to the pool. */
  async close(): Promise<void> {
    this.#listeners.clear();
    clearTimeout(this.#retry);
    this.#retry = undefined;
    await this.#opening?.catch(() => {
      // A failed open left nothing to release.
    });
    const client = this.#client;
    if (!client) return;
    this.#client = null;
    const detach = this.#detach;
    this.#detach = null;
    try {
      await client.query('UNLISTEN *');
      detach?.(true);
      client.release();
    } catch (error) {
      detach?.();
      client.release(asError(error));
    }
  }

  #ensureListening(): Promise<void> {
    if (this.#client) return Promise.resolve();
    this.#opening ??= this.#listen().finally(() => {
      this.#opening = null;
    });
    return this.#opening;
  }

  async #listen(): Promise<void> {
    const client = await this.pool.connect();
    const onNotification = (message: PgNotificationLike) => {
      if (message.channel === this.channel) this.#deliver(message.payload);
    };
    const onError = (error: Error) => this.#lost(client, error);
    const onEnd = () => this.#lost(client, new Error('the LISTEN connection ended'));
    client.on('notification', onNotification);
    client.on('error', onError);
    client.on('end', onEnd);
    this.#detach = (healthy = false) => {
      client.removeListener('notification', onNotification);
      client.removeListener('end', onEnd);
      // A broken client may still emit 'error' after it is discarded: unheard, that would crash the
      // process, so its listener stays. A healthy one goes back to the pool without ours.
      if (healthy) client.removeListener('error', onError);
    };
    try {
      await client.query(`LISTEN ${quoteIdent(this.channel)}`);
    } catch (error) {
      this.#detach();
      this.#detach = null;
      client.release(asError(error));
      throw error;
    }
    this.#client = client;
  }

  #lost(client: PgPoolClientLike, error: Error): void {
    if (this.#client !== client) return;
    this.#client = null;
    this.#detach?.();
    this.#detach = null;
    client.release(error);
    this.onError(new Error(`LISTEN connection lost, listening again: ${error.message}`, { cause: error }));
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#listeners.size === 0 || this.#retry !== undefined) return;
    const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** this.#failures);
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (this.#listeners.size === 0) return;
      this.#ensureListening().then(
        () => {
          this.#failures = 0;
          this.#dispatch(RESUMED_EVENT);
        },
        (error: unknown) => {
          this.#failures += 1;
          this.onError(new Error(`could not LISTEN again: ${asError(error).message}`, { cause: error }));
          this.#scheduleReconnect();
        },
      );
    }, delay);
    this.#retry.unref?.();
  }

  #deliver(payload: string | undefined): void {
    let event: StoreEvent;
    try {
      event = parseEvent(payload);
    } catch (error) {
      this.onError(asError(error));
      return;
    }
    this.#dispatch(event);
  }

  #dispatch(event: StoreEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(structuredClone(event));
      } catch (error) {
        this.onError(asError(error));
      }
    }
  }
}
