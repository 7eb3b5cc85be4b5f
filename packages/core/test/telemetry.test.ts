import { memoryStore } from '@cronkeeper/adapter-memory';
import {
  createScheduler,
  defineExecutor,
  type MeterLike,
  manualClock,
  PROMETHEUS_CONTENT_TYPE,
  type TracerLike,
} from '@cronkeeper/core';
import { metrics, trace } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { Counter, MAX_SERIES_PER_FAMILY } from '../src/prometheus.js';

// The scheduler's metrics and traces as an OpenTelemetry SDK receives them, through in-memory
// exporters: what a host app with a collector would see.

function sdk() {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const collect = async () => {
    const { resourceMetrics } = await reader.collect();
    return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
  };
  return { spans, tracerProvider, meterProvider, collect };
}

function app(telemetry: Parameters<typeof createScheduler>[0]['telemetry']) {
  const clock = manualClock('2026-03-01T00:00:00Z');
  const scheduler = createScheduler({
    store: memoryStore(),
    clock,
    logger: false,
    maintenanceJobs: false,
    telemetry,
    executors: {
      ok: defineExecutor({ run: async () => 'done' }),
      broken: defineExecutor({
        run: async () => {
          throw new Error('disk full');
        },
      }),
    },
  });
  return { scheduler, clock };
}

afterEach(() => {
  trace.disable();
  metrics.disable();
});

describe('OpenTelemetry', () => {
  it('gives each run a span with its job, executor, trigger, attempt and outcome', async () => {
    const otel = sdk();
    // An SDK tracer fits the scheduler's option type as it is, without a cast.
    const tracer: TracerLike = otel.tracerProvider.getTracer('test');
    const { scheduler, clock } = app({ tracer });
    await scheduler.jobs.create({ name: 'report', schedule: '* * * * *', executor: 'ok' });
    await scheduler.jobs.create({
      name: 'cleanup',
      schedule: '* * * * *',
      executor: 'broken',
      retry: { limit: 1, backoff: { type: 'fixed', delay: 1000 } },
    });
    clock.advance('1m');
    await scheduler.runDue();
    const spans = otel.spans.getFinishedSpans();
    const byJob = (job: string) => spans.find((span) => span.attributes['cronkeeper.job'] === job);
    expect(byJob('report')?.attributes).toMatchObject({
      'cronkeeper.executor': 'ok',
      'cronkeeper.trigger': 'schedule',
      'cronkeeper.attempt': 1,
      'cronkeeper.outcome': 'succeeded',
    });
    expect(byJob('report')?.status.code).toBe(1);
    expect(byJob('report')?.name).toBe('cronkeeper run report');
    expect(byJob('cleanup')?.attributes['cronkeeper.outcome']).toBe('failed');
    expect(byJob('cleanup')?.status).toMatchObject({ code: 2, message: 'disk full' });
    clock.advance('1s');
    await scheduler.runDue();
    const retry = otel.spans
      .getFinishedSpans()
      .find((span) => span.attributes['cronkeeper.trigger'] === 'retry');
    expect(retry?.attributes['cronkeeper.attempt']).toBe(2);
  });

  it('records runs by outcome, durations, fire lag, missed and skipped slots, queue depth and recoveries', async () => {
    const otel = sdk();
    const meter: MeterLike = otel.meterProvider.getMeter('test');
    const { scheduler, clock } = app({ meter });
    await scheduler.jobs.create({ name: 'report', schedule: '* * * * *', executor: 'ok' });
    await scheduler.jobs.create({ name: 'cleanup', schedule: '* * * * *', executor: 'broken' });
    clock.advance('3m'); // misfire once: two slots of each job passed over
    await scheduler.runDue();
    await scheduler.trigger({ executor: 'ok' });
    const found = await otel.collect();
    const metric = (name: string) => found.find((item) => item.descriptor.name === name);
    const points = (name: string) => metric(name)?.dataPoints ?? [];
    expect(
      points('cronkeeper.runs').map((point) => [
        point.attributes['cronkeeper.job'],
        point.attributes['cronkeeper.outcome'],
        point.value,
      ]),
    ).toEqual(
      expect.arrayContaining([
        ['report', 'succeeded', 1],
        ['cleanup', 'failed', 1],
      ]),
    );
    expect(metric('cronkeeper.run.duration')?.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(metric('cronkeeper.run.duration')?.descriptor.unit).toBe('s');
    const lag = points('cronkeeper.fire.lag');
    expect(lag.length).toBeGreaterThan(0);
    expect(points('cronkeeper.slots.missed').map((point) => point.value)).toEqual([2, 2]);
    expect(
      points('cronkeeper.queue.depth').map((point) => [point.attributes['cronkeeper.status'], point.value]),
    ).toEqual([
      ['pending', 1],
      ['running', 0],
    ]);
  });

  it('uses the global API of @opentelemetry/api when no tracer or meter is given', async () => {
    const otel = sdk();
    trace.setGlobalTracerProvider(otel.tracerProvider);
    metrics.setGlobalMeterProvider(otel.meterProvider);
    const { scheduler, clock } = app(undefined);
    await scheduler.jobs.create({ name: 'report', schedule: '* * * * *', executor: 'ok' });
    clock.advance('1m');
    await scheduler.runDue();
    expect(otel.spans.getFinishedSpans().map((span) => span.attributes['cronkeeper.job'])).toEqual([
      'report',
    ]);
    expect((await otel.collect()).map((item) => item.descriptor.name)).toContain('cronkeeper.runs');
  });

  it('sends nothing with telemetry: false', async () => {
    const otel = sdk();
    trace.setGlobalTracerProvider(otel.tracerProvider);
    const { scheduler, clock } = app(false);
    await scheduler.jobs.create({ name: 'report', schedule: '* * * * *', executor: 'ok' });
    clock.advance('1m');
    await scheduler.runDue();
    expect(otel.spans.getFinishedSpans()).toEqual([]);
  });
});

describe('Prometheus text', () => {
  it('renders what this instance counted in the text exposition format', async () => {
    const { scheduler, clock } = app(false);
    await scheduler.jobs.create({ name: 'report', schedule: '* * * * *', executor: 'ok' });
    await scheduler.jobs.create({ name: 'say "hi"\\now', schedule: '* * * * *', executor: 'broken' });
    clock.advance('1m');
    await scheduler.runDue();
    const text = await scheduler.prometheusMetrics();
    expect(PROMETHEUS_CONTENT_TYPE).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text).toContain('# TYPE cronkeeper_runs_total counter');
    expect(text).toContain(
      'cronkeeper_runs_total{job="report",executor="ok",trigger="schedule",outcome="succeeded"} 1',
    );
    expect(text).toContain('job="say \\"hi\\"\\\\now"');
    expect(text).toContain('# TYPE cronkeeper_run_duration_seconds histogram');
    expect(text).toMatch(
      /cronkeeper_run_duration_seconds_bucket\{job="report",executor="ok",outcome="succeeded",le="\+Inf"\} 1/,
    );
    expect(text).toContain('cronkeeper_fire_lag_seconds_count{job="report",trigger="schedule"} 1');
    expect(text).toContain('cronkeeper_queue_depth{status="pending"} 0');
    for (const line of text.trim().split('\n')) {
      if (line.startsWith('#')) expect(line).toMatch(/^# (HELP|TYPE) cronkeeper_\w+ /);
      else expect(line).toMatch(/^cronkeeper_\w+(\{.*\})? (-?\d+(\.\d+)?(e-?\d+)?|\+Inf|NaN)$/);
    }
  });

  it("forgets a deleted job's series, so names that come and go do not pile up in every scrape", async () => {
    const { scheduler, clock } = app(false);
    for (let index = 0; index < 50; index++)
      await scheduler.jobs.create({ name: `temp-${index}`, schedule: '* * * * *', executor: 'ok' });
    await scheduler.jobs.create({ name: 'kept', schedule: '* * * * *', executor: 'ok' });
    clock.advance('1m');
    await scheduler.runDue();
    expect(await scheduler.prometheusMetrics()).toContain('job="temp-7"');
    for (let index = 0; index < 50; index++) await scheduler.jobs.delete(`temp-${index}`);
    const text = await scheduler.prometheusMetrics();
    expect(text).not.toContain('temp-');
    expect(text).toContain(
      'cronkeeper_runs_total{job="kept",executor="ok",trigger="schedule",outcome="succeeded"} 1',
    );
  });

  it('keeps at most MAX_SERIES_PER_FAMILY label sets per family, folding the rest into job="(other)"', () => {
    const runs = new Counter('cronkeeper_runs_total', 'Runs.');
    for (let index = 0; index < MAX_SERIES_PER_FAMILY + 500; index++) runs.add({ job: `job-${index}` });
    const lines = runs.render().filter((line) => !line.startsWith('#'));
    expect(lines).toHaveLength(MAX_SERIES_PER_FAMILY + 1);
    expect(lines).toContain('cronkeeper_runs_total{job="(other)"} 500');
    runs.add({ job: 'job-0' });
    expect(runs.render()).toContain('cronkeeper_runs_total{job="job-0"} 2');
  });

  it("keeps a tenant's series apart from a global job's: same name, its deletion, and a full tenant budget", async () => {
    const { scheduler, clock } = app(false);
    await scheduler.jobs.create({ name: 'nightly-backup', schedule: '* * * * *', executor: 'ok' });
    await scheduler.jobs.create({
      name: 'nightly-backup',
      tenantId: 'mt',
      schedule: '* * * * *',
      executor: 'ok',
    });
    clock.advance('1m');
    await scheduler.runDue();
    let text = await scheduler.prometheusMetrics();
    expect(text).toContain(
      'cronkeeper_runs_total{job="nightly-backup",executor="ok",trigger="schedule",outcome="succeeded"} 1',
    );
    expect(text).toContain(
      'cronkeeper_runs_total{job="nightly-backup",tenant="mt",executor="ok",trigger="schedule",outcome="succeeded"} 1',
    );
    await scheduler.jobs.delete('nightly-backup', { tenantId: 'mt' });
    text = await scheduler.prometheusMetrics();
    expect(text).not.toContain('tenant="mt"');
    expect(text).toContain(
      'cronkeeper_runs_total{job="nightly-backup",executor="ok",trigger="schedule",outcome="succeeded"} 1',
    );

    // Tenants filling their budget fold only their own new series.
    const runs = new Counter('cronkeeper_runs_total', 'Runs.');
    for (let index = 0; index < MAX_SERIES_PER_FAMILY + 10; index++)
      runs.add({ job: `t-${index}`, tenant: 'mt' });
    runs.add({ job: 'nightly-backup', outcome: 'failed' });
    const lines = runs.render();
    expect(lines).toContain('cronkeeper_runs_total{job="nightly-backup",outcome="failed"} 1');
    expect(lines).toContain('cronkeeper_runs_total{job="(other)",tenant="(other)"} 10');
  });

  it('replaces control characters and line separators in label values, so a name cannot forge a line', () => {
    const runs = new Counter('cronkeeper_runs_total', 'Runs.');
    runs.add({ job: 'a\r\u0000\t\u2028\u0085b' });
    const [line] = runs.render().filter((row) => !row.startsWith('#'));
    expect(line).toBe('cronkeeper_runs_total{job="a\ufffd\ufffd\ufffd\ufffd\ufffdb"} 1');
  });
});
