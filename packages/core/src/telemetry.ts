import { Counter, Gauge, Histogram, SECONDS_BUCKETS } from './prometheus.js';
import type { Run } from './types.js';

/** Attribute values as OpenTelemetry takes them. */
export type TelemetryAttributes = Record<string, string | number | boolean>;

/** The part of an OpenTelemetry `Span` the scheduler uses. */
export interface SpanLike {
  setAttribute(key: string, value: string | number | boolean): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  end(): void;
}

/** The part of an OpenTelemetry `Tracer` the scheduler uses (an `@opentelemetry/api` Tracer fits). */
export interface TracerLike {
  startActiveSpan<F extends (span: SpanLike) => unknown>(
    name: string,
    options: { kind?: number; attributes?: TelemetryAttributes },
    fn: F,
  ): ReturnType<F>;
}

/** The part of an OpenTelemetry `Meter` the scheduler uses (an `@opentelemetry/api` Meter fits). */
export interface MeterLike {
  createCounter(
    name: string,
    options?: { description?: string; unit?: string },
  ): { add(value: number, attributes?: TelemetryAttributes): void };
  createHistogram(
    name: string,
    options?: { description?: string; unit?: string },
  ): { record(value: number, attributes?: TelemetryAttributes): void };
  createObservableGauge(
    name: string,
    options?: { description?: string; unit?: string },
  ): {
    addCallback(
      callback: (result: {
        observe(value: number, attributes?: TelemetryAttributes): void;
      }) => void | Promise<void>,
    ): void;
  };
}

/**
 * Where metrics and traces go. Absent: through the global `@opentelemetry/api` when that optional
 * peer is installed (a no-op until the host registers an SDK), else nowhere. `false`: nowhere.
 */
export interface TelemetryOptions {
  /** Spans of runs. @default the global tracer of `@opentelemetry/api`, if installed */
  tracer?: TracerLike;
  /** Metric instruments. @default the global meter of `@opentelemetry/api`, if installed */
  meter?: MeterLike;
}

const SCOPE = '@cronkeeper/core';
// OpenTelemetry's numeric enums, spelled here so core imports nothing from the API package.
const SPAN_KIND_CONSUMER = 4;
const STATUS_OK = 1;
const STATUS_ERROR = 2;

interface OtelInstruments {
  runs: ReturnType<MeterLike['createCounter']>;
  duration: ReturnType<MeterLike['createHistogram']>;
  lag: ReturnType<MeterLike['createHistogram']>;
  missed: ReturnType<MeterLike['createCounter']>;
  skipped: ReturnType<MeterLike['createCounter']>;
  recoveries: ReturnType<MeterLike['createCounter']>;
}

/** Queue depth read from the store when metrics are collected. */
export type QueueDepth = () => Promise<{ pending: number; running: number }>;

/** Loads the optional peer; resolves to null when it is not installed. Replaceable in tests. */
export type OtelLoader = () => Promise<{ tracer: TracerLike; meter: MeterLike } | null>;

/** The global tracer and meter of `@opentelemetry/api`, or null when the package is not installed. */
export const loadOtelApi: OtelLoader = async () => {
  try {
    const api = await import('@opentelemetry/api');
    return {
      tracer: api.trace.getTracer(SCOPE) as unknown as TracerLike,
      meter: api.metrics.getMeter(SCOPE) as unknown as MeterLike,
    };
  } catch {
    // Not installed: telemetry is optional, and Prometheus text still works without it.
    return null;
  }
};

const jobLabel = (run: Run): string => run.jobName ?? '';
/**
 * The labels naming a run's job: its name, and its tenant when it has one (a tenant's job may share
 * a global job's name, and must neither add to its series nor drop them when deleted).
 */
const jobLabels = (job: string, tenantId: string | null): { job: string; tenant?: string } =>
  tenantId === null ? { job } : { job, tenant: tenantId };
/**
 * The job labels followed by `more`. Not `{ ...jobLabels(), ...more }`: V8 builds a spread-then-
 * extended object on a slow path, which made the metrics of every run cost several microseconds.
 */
const seriesLabels = <More extends Record<string, string>>(
  job: string,
  tenantId: string | null,
  more: More,
): { job: string; tenant?: string } & More => Object.assign(jobLabels(job, tenantId), more);
const seconds = (ms: number): number => ms / 1000;

/**
 * Counts what the scheduler does, for Prometheus text (always, in this process) and for
 * OpenTelemetry (when a tracer or meter is available). Every hook is a few map lookups: cheap
 * enough for the run path whether or not anything reads them.
 */
export class Telemetry {
  #tracer: TracerLike | null = null;
  #otel: OtelInstruments | null = null;
  #loading: Promise<void> | null = null;
  readonly #runs = new Counter('cronkeeper_runs_total', 'Runs that ended, by outcome.');
  readonly #duration = new Histogram(
    'cronkeeper_run_duration_seconds',
    'Time from a run start to its end.',
    SECONDS_BUCKETS,
  );
  readonly #lag = new Histogram(
    'cronkeeper_fire_lag_seconds',
    'Time from a slot (or one-off instant) to the start of its run.',
    SECONDS_BUCKETS,
  );
  readonly #missed = new Counter(
    'cronkeeper_slots_missed_total',
    'Slots passed over after downtime by the misfire policy.',
  );
  readonly #skipped = new Counter(
    'cronkeeper_slots_skipped_total',
    'Runs skipped because a run of the same job was running (overlap "skip").',
  );
  readonly #recoveries = new Counter(
    'cronkeeper_lease_recoveries_total',
    'Running runs failed or retried because their worker stopped renewing the lease.',
  );
  readonly #queue = new Gauge('cronkeeper_queue_depth', 'Runs pending and running now, in the store.');

  constructor(
    private readonly options: TelemetryOptions | false | undefined,
    private readonly queueDepth: QueueDepth,
    private readonly loader: OtelLoader = loadOtelApi,
  ) {
    if (options) this.#attach(options.tracer ?? null, options.meter ?? null);
  }

  /** Load `@opentelemetry/api` once when no tracer or meter was given (and telemetry is not off). */
  ready(): Promise<void> {
    if (this.options !== undefined) return Promise.resolve();
    this.#loading ??= this.loader().then((api) => {
      if (api) this.#attach(api.tracer, api.meter);
    });
    return this.#loading;
  }

  #attach(tracer: TracerLike | null, meter: MeterLike | null): void {
    this.#tracer = tracer;
    if (!meter) return;
    const seconds = { unit: 's' } as const;
    this.#otel = {
      runs: meter.createCounter('cronkeeper.runs', { description: 'Runs that ended, by outcome.' }),
      duration: meter.createHistogram('cronkeeper.run.duration', {
        ...seconds,
        description: 'Time from a run start to its end.',
      }),
      lag: meter.createHistogram('cronkeeper.fire.lag', {
        ...seconds,
        description: 'Time from a slot to the start of its run.',
      }),
      missed: meter.createCounter('cronkeeper.slots.missed', {
        description: 'Slots passed over by the misfire policy.',
      }),
      skipped: meter.createCounter('cronkeeper.slots.skipped', {
        description: 'Runs skipped by the overlap policy.',
      }),
      recoveries: meter.createCounter('cronkeeper.lease.recoveries', {
        description: 'Runs recovered after their lease lapsed.',
      }),
    };
    meter
      .createObservableGauge('cronkeeper.queue.depth', { description: 'Runs pending and running now.' })
      .addCallback(async (result) => {
        const depth = await this.queueDepth();
        result.observe(depth.pending, { 'cronkeeper.status': 'pending' });
        result.observe(depth.running, { 'cronkeeper.status': 'running' });
      });
  }

  /** Run `work` (the execution of `run`) inside a span, when there is a tracer. */
  traceRun(run: Run, work: () => Promise<Run | null>): Promise<Run | null> {
    const tracer = this.#tracer;
    if (!tracer) return work();
    const attributes: TelemetryAttributes = {
      'cronkeeper.run.id': run.id,
      'cronkeeper.job': jobLabel(run),
      'cronkeeper.executor': run.executor,
      'cronkeeper.trigger': run.trigger,
      'cronkeeper.attempt': run.attempt,
    };
    if (run.tenantId !== null) attributes['cronkeeper.tenant'] = run.tenantId;
    return tracer.startActiveSpan(
      `cronkeeper run ${run.jobName ?? run.executor}`,
      { kind: SPAN_KIND_CONSUMER, attributes },
      async (span) => {
        try {
          const finished = await work();
          // null: this worker lost the run (its lease lapsed); another instance owns the outcome.
          const outcome = finished?.status ?? 'lost';
          span.setAttribute('cronkeeper.outcome', outcome);
          if (outcome === 'succeeded') span.setStatus({ code: STATUS_OK });
          else span.setStatus({ code: STATUS_ERROR, message: finished?.error?.message ?? outcome });
          return finished;
        } catch (error) {
          span.setAttribute('cronkeeper.outcome', 'error');
          span.setStatus({
            code: STATUS_ERROR,
            message: error instanceof Error ? error.message : String(error),
          });
          throw error;
        } finally {
          span.end();
        }
      },
    );
  }

  /** A run started here: its fire lag, for runs that had an instant to keep. */
  runStarted(run: Run): void {
    if (run.startedAt === null || run.scheduledFor === null) return;
    if (run.trigger !== 'schedule' && run.trigger !== 'once') return;
    const lag = seconds(Math.max(0, run.startedAt.getTime() - run.scheduledFor.getTime()));
    const labels = seriesLabels(jobLabel(run), run.tenantId, { trigger: run.trigger });
    this.#lag.observe(labels, lag);
    this.#otel?.lag.record(lag, { 'cronkeeper.job': labels.job, 'cronkeeper.trigger': run.trigger });
  }

  /** A run reached a terminal state through this instance. */
  runEnded(run: Run): void {
    const name = jobLabel(run);
    const labels = seriesLabels(name, run.tenantId, {
      executor: run.executor,
      trigger: run.trigger,
      outcome: run.status,
    });
    this.#runs.add(labels);
    const attributes = {
      'cronkeeper.job': labels.job,
      'cronkeeper.executor': run.executor,
      'cronkeeper.trigger': run.trigger,
      'cronkeeper.outcome': run.status,
    };
    this.#otel?.runs.add(1, attributes);
    if (run.status === 'skipped') {
      this.#skipped.add(jobLabels(name, run.tenantId));
      this.#otel?.skipped.add(1, { 'cronkeeper.job': labels.job });
    }
    if (run.durationMs !== null && run.startedAt !== null) {
      const duration = seconds(run.durationMs);
      this.#duration.observe(
        seriesLabels(name, run.tenantId, { executor: run.executor, outcome: run.status }),
        duration,
      );
      this.#otel?.duration.record(duration, attributes);
    }
  }

  /** Slots of `job` the misfire policy passed over. */
  slotsMissed(job: string, tenantId: string | null, count: number): void {
    this.#missed.add(jobLabels(job, tenantId), count);
    this.#otel?.missed.add(count, { 'cronkeeper.job': job });
  }

  /** A run recovered after its lease lapsed. */
  leaseRecovered(run: Run): void {
    this.#recoveries.add(jobLabels(jobLabel(run), run.tenantId));
    this.#otel?.recoveries.add(1, { 'cronkeeper.job': jobLabel(run) });
  }

  /** Drop the series of a deleted job, so names that come and go do not pile up. */
  forgetJob(name: string, tenantId: string | null): void {
    for (const family of [
      this.#runs,
      this.#duration,
      this.#lag,
      this.#missed,
      this.#skipped,
      this.#recoveries,
    ])
      family.forget(jobLabels(name, tenantId));
  }

  /** Everything counted in this process, plus the store's queue depth, as Prometheus text. */
  async prometheus(): Promise<string> {
    const depth = await this.queueDepth();
    const lines = [
      ...this.#runs.render(),
      ...this.#duration.render(),
      ...this.#lag.render(),
      ...this.#missed.render(),
      ...this.#skipped.render(),
      ...this.#recoveries.render(),
      ...this.#queue.render([
        { labels: { status: 'pending' }, value: depth.pending },
        { labels: { status: 'running' }, value: depth.running },
      ]),
    ];
    return `${lines.join('\n')}\n`;
  }
}
