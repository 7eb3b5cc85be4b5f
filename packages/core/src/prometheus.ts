/** The `Content-Type` of the Prometheus text exposition format that `prometheusMetrics()` renders. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type Labels = Record<string, string>;

/** Seconds: from a fast run (5 ms) to a long one (an hour). */
export const SECONDS_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600,
];

/**
 * Label sets kept per metric family, for global jobs and again for all tenants' jobs together. Job
 * names are labels, and a tenant may create and delete jobs at will: past this many, new label sets
 * are folded into a `job="(other)"` series, so a scrape stays small whatever names were ever seen.
 * The budgets are apart so that tenants filling theirs cannot fold a global job's series away.
 */
export const MAX_SERIES_PER_FAMILY = 2000;
/** The `job` label of the series that new label sets fold into once a family is full. */
export const OVERFLOW_JOB_LABEL = '(other)';

// Other control characters and line separators would let a name forge lines in a scraper or a
// log viewer; the format escapes only backslash, quote and newline, so they are replaced.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE_IN_LABEL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/g;

// Label values are free text (job names); the format escapes backslash, quote and newline.
const escapeLabel = (value: string): string =>
  value
    .replaceAll('\\', '\\\\')
    .replaceAll('"', '\\"')
    .replaceAll('\n', '\\n')
    .replace(UNSAFE_IN_LABEL, '\ufffd');

function labelText(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels);
  if (extra) pairs.push(extra);
  if (pairs.length === 0) return '';
  return `{${pairs.map(([key, value]) => `${key}="${escapeLabel(value)}"`).join(',')}}`;
}

const numberText = (value: number): string =>
  Number.isFinite(value) ? String(value) : value > 0 ? '+Inf' : value < 0 ? '-Inf' : 'NaN';

interface Series<T> {
  labels: Labels;
  value: T;
}

interface HistogramValue {
  counts: number[];
  sum: number;
  count: number;
}

/** One metric family: its help text, kind and series by label set. */
abstract class Family<T> {
  readonly #series = new Map<string, Series<T>>();
  /** Series with a `tenant` label (a tenant's jobs), counted against their own budget. */
  #tenantSeries = 0;

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  protected series(labels: Labels, create: () => T): Series<T> {
    let key = JSON.stringify(labels);
    let found = this.#series.get(key);
    const ofTenant = 'tenant' in labels;
    const used = ofTenant ? this.#tenantSeries : this.#series.size - this.#tenantSeries;
    if (!found && used >= MAX_SERIES_PER_FAMILY && 'job' in labels) {
      // A tenant's overflow names no tenant: which tenant filled the budget is not a label set.
      labels = ofTenant
        ? { ...labels, job: OVERFLOW_JOB_LABEL, tenant: OVERFLOW_JOB_LABEL }
        : { ...labels, job: OVERFLOW_JOB_LABEL };
      key = JSON.stringify(labels);
      found = this.#series.get(key);
    }
    if (!found) {
      found = { labels, value: create() };
      this.#series.set(key, found);
      if (ofTenant) this.#tenantSeries++;
    }
    return found;
  }

  /** Drop every series whose labels include all of `match` (a deleted job's). */
  forget(match: Labels): void {
    const pairs = Object.entries(match);
    for (const [key, series] of this.#series) {
      if (!pairs.every(([label, value]) => series.labels[label] === value)) continue;
      // A global job's series has no tenant label: matching one must not take a tenant's.
      if (!('tenant' in match) && 'tenant' in series.labels) continue;
      this.#series.delete(key);
      if ('tenant' in series.labels) this.#tenantSeries--;
    }
  }

  protected all(): IterableIterator<Series<T>> {
    return this.#series.values();
  }

  abstract render(): string[];
}

/** A counter that only goes up. */
export class Counter extends Family<{ n: number }> {
  add(labels: Labels, by = 1): void {
    this.series(labels, () => ({ n: 0 })).value.n += by;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const { labels, value } of this.all()) lines.push(`${this.name}${labelText(labels)} ${value.n}`);
    return lines;
  }
}

/** A histogram with fixed buckets (upper bounds, ascending). */
export class Histogram extends Family<HistogramValue> {
  constructor(
    name: string,
    help: string,
    readonly buckets: readonly number[],
  ) {
    super(name, help);
  }

  observe(labels: Labels, value: number): void {
    const series = this.series(labels, () => ({
      counts: this.buckets.map(() => 0),
      sum: 0,
      count: 0,
    })).value;
    this.buckets.forEach((bound, index) => {
      if (value <= bound) (series.counts[index] as number) += 1;
    });
    series.sum += value;
    series.count += 1;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const { labels, value } of this.all()) {
      this.buckets.forEach((bound, index) => {
        lines.push(
          `${this.name}_bucket${labelText(labels, ['le', numberText(bound)])} ${value.counts[index]}`,
        );
      });
      lines.push(`${this.name}_bucket${labelText(labels, ['le', '+Inf'])} ${value.count}`);
      lines.push(`${this.name}_sum${labelText(labels)} ${value.sum}`);
      lines.push(`${this.name}_count${labelText(labels)} ${value.count}`);
    }
    return lines;
  }
}

/** A gauge read when rendered. */
export class Gauge {
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  render(values: readonly { labels: Labels; value: number }[]): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`];
    for (const { labels, value } of values)
      lines.push(`${this.name}${labelText(labels)} ${numberText(value)}`);
    return lines;
  }
}
