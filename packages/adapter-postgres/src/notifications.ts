import { randomUUID } from 'node:crypto';
import type { StoreEvent } from '@cronkeeper/core';
import type { PgNotificationLike, PgPoolClientLike, PgPoolLike } from './driver.js';
import { quoteIdent } from './names.js';
import type { Runner } from './prepared.js';
import { sharesSessions } from './session-check.js';

const EVENT_TYPES = new Set(['wake', 'run', 'cancel', 'job']);
/** First and longest wait before listening again after the connection dropped. */
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;

/** The event sent to listeners once listening resumes, since notifications sent meanwhile are lost. */
export const RESUMED_EVENT: StoreEvent = { type: 'wake', origin: 'cronkeeper-postgres-listener' };

/**
 * Origin of the wake-up a store sends itself through the pool once it listens, to check the
 * LISTEN connection hears it. Stores drop these instead of handing them to listeners.
 */
export const LISTEN_CHECK_ORIGIN = 'cronkeeper-postgres-listen-check:';
/** How long a new LISTEN connection has to hear its check before the store stops relying on it. */
export const LISTEN_CHECK_TIMEOUT_MS = 3_000;

/** The warning given when the listen pool's connections share sessions: nothing is LISTENed on. */
export function sharedSessionsWarning(): Error {
  return new Error(
    'LISTEN cannot work on this pool: its connections share server sessions between transactions (as behind ' +
      "PgBouncer in transaction mode), so the store does not listen, and instances find each other's work by " +
      'polling every pollInterval. Pass listenPool, a pool that connects to PostgreSQL directly, to keep ' +
      'wake-ups, or notify: false to poll without this check.',
  );
}

/** The warning given when a LISTEN connection never heard its check. */
export function deafListenerWarning(): Error {
  return new Error(
    'LISTEN receives no notifications on this connection (a pooler between the store and PostgreSQL, or a ' +
      "listenPool on another database than pool?): instances now find each other's work only by polling " +
      'every pollInterval. Pass listenPool, a pool that connects directly to the same database, to keep ' +
      'wake-ups, or notify: false to poll without this check.',
  );
}

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
 * out of the listen pool (the pool itself, unless a direct one was given) while anyone is
 * subscribed. When that connection drops (server restart, pg_terminate_backend, network), the
 * client is discarded and a new one listens again after a growing delay; listeners then get one
 * `wake` so they look for work announced meanwhile.
 *
 * Behind a pooler that hands sessions from client to client (PgBouncer in transaction mode) LISTEN
 * cannot work, and must not even be sent: the session that ran it goes back to the pool still
 * listening, and the notifications it then receives while idle confuse the pooler (PgBouncer 1.18
 * drops them, and at times a client's query results with them, leaving that query hanging). So
 * before the first LISTEN the store checks that the connections keep their sessions
 * (`sharesSessions`); if not, it says so once through `onError` and does not listen until
 * `close()`, and the scheduler polls. Each LISTEN connection is then checked as well: the store
 * notifies itself through the pool and waits for it on the listening client; if it never comes,
 * the store warns, gives the client back and stops listening in the same way.
 */
export class PgNotifications {
  readonly #listeners = new Set<(event: StoreEvent) => void>();
  #client: PgPoolClientLike | null = null;
  #detach: ((healthy?: boolean) => void) | null = null;
  #opening: Promise<void> | null = null;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #failures = 0;
  /** The check in flight: its origin, and how to end it (heard, or not). */
  #check: { origin: string; settle: (heard: boolean) => void } | null = null;
  /** The check as a whole, including its NOTIFY, which `close()` waits for. */
  #checking: Promise<void> | null = null;
  /** Set when LISTEN cannot work on these connections: no listening until `close()`. */
  #deaf = false;
  /** Whether the listen pool's connections were found to keep their own sessions. */
  #sessionsChecked = false;

  constructor(
    private readonly listenPool: PgPoolLike,
    private readonly channel: string,
    private readonly notify: (events: readonly StoreEvent[]) => Promise<void>,
    private readonly onError: (error: Error) => void,
  ) {}

  /** Whether this store stopped listening because its LISTEN connection heard nothing. */
  get deaf(): boolean {
    return this.#deaf;
  }

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
    this.#check?.settle(true);
    await this.#checking;
    clearTimeout(this.#retry);
    this.#retry = undefined;
    await this.#opening?.catch(() => {
      // A failed open left nothing to release.
    });
    this.#deaf = false;
    this.#sessionsChecked = false;
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
    if (this.#client || this.#deaf) return Promise.resolve();
    this.#opening ??= this.#listen().finally(() => {
      this.#opening = null;
    });
    return this.#opening;
  }

  async #listen(): Promise<void> {
    const client = await this.listenPool.connect();
    if (!this.#sessionsChecked) {
      let shared: boolean;
      try {
        shared = await sharesSessions(client, this.listenPool);
      } catch (error) {
        client.release(asError(error));
        throw error;
      }
      if (shared) {
        client.release();
        this.#deaf = true;
        this.onError(sharedSessionsWarning());
        return;
      }
      this.#sessionsChecked = true;
    }
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
    const checking = this.#checkHears(client).finally(() => {
      if (this.#checking === checking) this.#checking = null;
    });
    this.#checking = checking;
  }

  /** Notify through the pool and wait for it on `client`; stop listening if it never comes. */
  async #checkHears(client: PgPoolClientLike): Promise<void> {
    const origin = `${LISTEN_CHECK_ORIGIN}${randomUUID()}`;
    const heard = new Promise<boolean>((resolve) => {
      this.#check = { origin, settle: resolve };
    });
    try {
      await this.notify([{ type: 'wake', origin }]);
    } catch (error) {
      // Without a check the connection is trusted, as before there was one; polling covers it.
      this.onError(
        new Error(`could not check the LISTEN connection: ${asError(error).message}`, { cause: error }),
      );
      this.#check = null;
      return;
    }
    const timer = setTimeout(() => {
      if (this.#check?.origin === origin) this.#check.settle(false);
    }, LISTEN_CHECK_TIMEOUT_MS);
    timer.unref?.();
    const ok = await heard;
    clearTimeout(timer);
    if (this.#check?.origin === origin) this.#check = null;
    if (ok || this.#client !== client) return;
    this.#deaf = true;
    this.#client = null;
    this.#detach?.();
    this.#detach = null;
    client.release(true);
    this.onError(deafListenerWarning());
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
    if (event.type === 'wake' && event.origin.startsWith(LISTEN_CHECK_ORIGIN)) {
      if (event.origin === this.#check?.origin) this.#check.settle(true);
      return;
    }
    this.#dispatch(event);
  }

  #dispatch(event: StoreEvent): void {
    // Each listener gets its own copy. A store event's fields are all strings or null, so a
    // shallow copy is a whole one (and far cheaper than structuredClone on every event).
    for (const listener of [...this.#listeners]) {
      try {
        listener({ ...event });
      } catch (error) {
        this.onError(asError(error));
      }
    }
  }
}
