import { type JobEvent, jobAsSeenBy, type RunEvent, runAsSeenBy, type Scheduler } from '@cronkeeper/core';
import { HttpError } from './errors.js';

const RUN_EVENTS = [
  'run:created',
  'run:started',
  'run:succeeded',
  'run:failed',
  'run:cancelled',
  'run:skipped',
] as const;

/** Limits of the hub, from the `events` option. */
export interface EventHubLimits {
  heartbeatMs: number;
  /** Bytes a stream may hold unread before it is closed. */
  maxBuffered: number;
  maxStreams: number;
  maxStreamsPerCaller: number;
  maxStreamsPerTenant: number;
  /** How often each stream's caller is asked again whether it may still watch. */
  reauthorizeMs: number;
}

/** Which scheduler events one stream shows. */
export interface StreamFilter {
  /** The confined tenant watching, whose events are shaped as it may see them; null for an operator. */
  viewer: string | null;
  run(tenantId: string | null): boolean;
  job(tenantId: string | null): boolean;
}

interface Subscriber {
  filter: StreamFilter;
  caller: string;
  stillAllowed: () => Promise<boolean>;
  /** A re-check of this stream is under way; one still pending at the next check closes the stream. */
  checking: boolean;
  push(chunk: Uint8Array): void;
  close(): void;
}

const encoder = new TextEncoder();

/**
 * The server-sent event streams of one handler. It listens to the scheduler once, however many
 * clients are connected (and not at all when none is), serialises each event once and hands the
 * same bytes to every stream that may see it. Each stream is a `ReadableStream` whose queue is
 * bounded in bytes: a client that stops reading is dropped when its queue is full, so a stalled
 * client costs at most `maxBuffered` bytes, never an unbounded buffer.
 */
export class EventHub {
  readonly #scheduler: Scheduler;
  readonly #limits: EventHubLimits;
  readonly #subscribers = new Set<Subscriber>();
  readonly #perCaller = new Map<string, number>();
  /** Streams of each confined tenant, whatever its actors: one tenant cannot take every slot. */
  readonly #perTenant = new Map<string, number>();
  #heartbeat: ReturnType<typeof setInterval> | null = null;
  #reauthorize: ReturnType<typeof setInterval> | null = null;
  readonly #runListeners = RUN_EVENTS.map(
    (name) => [name, (event: RunEvent) => this.#onRun(name, event)] as const,
  );
  readonly #jobListener = (event: JobEvent) => this.#onJob(event);

  constructor(scheduler: Scheduler, limits: EventHubLimits) {
    this.#scheduler = scheduler;
    this.#limits = limits;
  }

  /** Streams open now. */
  get size(): number {
    return this.#subscribers.size;
  }

  /**
   * A new event stream for a caller (`caller` is its tenant and actor, as one key), or a 429 when a
   * cap is reached. It ends when the client cancels it, when `signal` aborts, when it is dropped
   * for not reading, or when `stillAllowed`, asked every `reauthorizeMs`, answers false, fails or
   * has not answered by the next check: access revoked after the stream opened must not go on
   * receiving events.
   */
  open(
    filter: StreamFilter,
    caller: string,
    signal: AbortSignal,
    stillAllowed: () => Promise<boolean>,
  ): ReadableStream<Uint8Array> {
    if (this.#subscribers.size >= this.#limits.maxStreams)
      throw new HttpError(
        429,
        'RATE_LIMITED',
        'too many event streams are open; try again later',
        {},
        {
          'Retry-After': '30',
        },
      );
    if ((this.#perCaller.get(caller) ?? 0) >= this.#limits.maxStreamsPerCaller)
      throw new HttpError(
        429,
        'RATE_LIMITED',
        `this caller already has ${this.#limits.maxStreamsPerCaller} event streams open; close one first`,
        {},
        { 'Retry-After': '30' },
      );
    const tenant = filter.viewer;
    if (tenant !== null && (this.#perTenant.get(tenant) ?? 0) >= this.#limits.maxStreamsPerTenant)
      throw new HttpError(
        429,
        'RATE_LIMITED',
        `this tenant already has ${this.#limits.maxStreamsPerTenant} event streams open; close one first`,
        {},
        { 'Retry-After': '30' },
      );
    let subscriber: Subscriber | null = null;
    let ended = false;
    const limit = this.#limits.maxBuffered;
    const leave = () => {
      signal.removeEventListener('abort', onAbort);
      if (subscriber) this.#remove(subscriber);
    };
    const onAbort = () => subscriber?.close();
    return new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          const entry: Subscriber = {
            filter,
            caller,
            stillAllowed,
            checking: false,
            push: (chunk) => {
              if (ended) return;
              const room = controller.desiredSize ?? 0;
              // A chunk always fits an empty queue; otherwise a full queue means the client stopped reading.
              if (room < limit && chunk.byteLength > room) {
                ended = true;
                leave();
                controller.error(new Error('event stream dropped: the client is not reading'));
                return;
              }
              controller.enqueue(chunk);
            },
            close: () => {
              if (ended) return;
              ended = true;
              leave();
              controller.close();
            },
          };
          subscriber = entry;
          this.#add(entry);
          signal.addEventListener('abort', onAbort, { once: true });
          if (signal.aborted) entry.close();
          else entry.push(encoder.encode('retry: 3000\n: connected\n\n'));
        },
        cancel: () => {
          ended = true;
          leave();
        },
      },
      { highWaterMark: limit, size: (chunk) => chunk.byteLength },
    );
  }

  #add(subscriber: Subscriber): void {
    this.#subscribers.add(subscriber);
    this.#perCaller.set(subscriber.caller, (this.#perCaller.get(subscriber.caller) ?? 0) + 1);
    const tenant = subscriber.filter.viewer;
    if (tenant !== null) this.#perTenant.set(tenant, (this.#perTenant.get(tenant) ?? 0) + 1);
    if (this.#subscribers.size !== 1) return;
    for (const [name, listener] of this.#runListeners) this.#scheduler.on(name, listener);
    this.#scheduler.on('job:changed', this.#jobListener);
    const timer = setInterval(() => {
      const beat = encoder.encode(`: heartbeat ${new Date().toISOString()}\n\n`);
      this.#broadcast(
        () => beat,
        () => true,
      );
    }, this.#limits.heartbeatMs);
    // Node and Bun: an idle stream must not keep the process alive on its own.
    (timer as { unref?: () => void }).unref?.();
    this.#heartbeat = timer;
    const recheck = setInterval(() => this.#recheck(), this.#limits.reauthorizeMs);
    (recheck as { unref?: () => void }).unref?.();
    this.#reauthorize = recheck;
  }

  #recheck(): void {
    for (const subscriber of [...this.#subscribers]) {
      // A check still pending a whole interval later counts as a refusal: a hanging `authorize`
      // must not keep a stream open that it can no longer vouch for.
      if (subscriber.checking) {
        subscriber.close();
        continue;
      }
      subscriber.checking = true;
      const done = (allowed: boolean) => {
        subscriber.checking = false;
        if (!allowed) subscriber.close();
      };
      subscriber.stillAllowed().then(done, () => done(false));
    }
  }

  #remove(subscriber: Subscriber): void {
    if (!this.#subscribers.delete(subscriber)) return;
    const left = (this.#perCaller.get(subscriber.caller) ?? 1) - 1;
    if (left > 0) this.#perCaller.set(subscriber.caller, left);
    else this.#perCaller.delete(subscriber.caller);
    const tenant = subscriber.filter.viewer;
    if (tenant !== null) {
      const streams = (this.#perTenant.get(tenant) ?? 1) - 1;
      if (streams > 0) this.#perTenant.set(tenant, streams);
      else this.#perTenant.delete(tenant);
    }
    if (this.#subscribers.size !== 0) return;
    for (const [name, listener] of this.#runListeners) this.#scheduler.off(name, listener);
    this.#scheduler.off('job:changed', this.#jobListener);
    if (this.#heartbeat !== null) clearInterval(this.#heartbeat);
    if (this.#reauthorize !== null) clearInterval(this.#reauthorize);
    this.#heartbeat = null;
    this.#reauthorize = null;
  }

  /**
   * Hand each stream `accepts` its event, built lazily (an event nobody may see costs nothing) and
   * once per kind of viewer: operators share one frame, each tenant's streams another.
   */
  #broadcast(
    frameFor: (viewer: string | null) => Uint8Array,
    accepts: (subscriber: Subscriber) => boolean,
  ): void {
    const frames = new Map<string | null, Uint8Array>();
    // A copy: pushing may drop a subscriber, which edits the set.
    for (const subscriber of [...this.#subscribers]) {
      if (!accepts(subscriber)) continue;
      const { viewer } = subscriber.filter;
      let bytes = frames.get(viewer);
      if (!bytes) {
        bytes = frameFor(viewer);
        frames.set(viewer, bytes);
      }
      subscriber.push(bytes);
    }
  }

  // A tenant's events leave out `origin` and the run's `workerId` (both name an instance: host and
  // process), and show global jobs as a tenant may see them.
  #onRun(name: (typeof RUN_EVENTS)[number], event: RunEvent): void {
    this.#broadcast(
      (viewer) =>
        frame(
          name,
          viewer === null
            ? { run: event.run, origin: event.origin }
            : { run: runAsSeenBy(event.run, viewer) },
        ),
      (subscriber) => subscriber.filter.run(event.run.tenantId),
    );
  }

  #onJob(event: JobEvent): void {
    this.#broadcast(
      (viewer) => {
        const { change, name, tenantId, job, origin } = event;
        return frame(
          'job:changed',
          viewer === null
            ? { change, name, tenantId, job, origin }
            : { change, name, tenantId, job: job && jobAsSeenBy(job, viewer) },
        );
      },
      (subscriber) => subscriber.filter.job(event.tenantId),
    );
  }
}

/** One server-sent event; JSON never contains a raw newline, so one `data:` line suffices. */
function frame(event: string, data: unknown): Uint8Array {
  return encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}
