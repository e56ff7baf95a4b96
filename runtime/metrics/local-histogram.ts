import type { Metric, Registry } from 'prom-client';

/** One label set's series of a LocalHistogram. */
export interface HistogramSeries {
  observe(value: number): void;
}

/** Buckets not cumulative: counts[i] is the observations in (bounds[i-1], bounds[i]]; cumulated on export. */
class Series implements HistogramSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    private readonly bounds: readonly number[],
    readonly labels: Readonly<Record<string, string | number>>,
  ) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    if (i < bounds.length) this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/**
 * A Prometheus histogram for the hot path, exported through a prom-client registry like its
 * own histograms (same series, `le` labels, `_sum` and `_count`), but whose `observe` is a
 * bucket search and three additions. prom-client's histogram validates and hashes the label set
 * on every observation, even through a bound child; the delivery profile showed it (the label
 * hash interns a string per GET). Bind a series once with `labels(...)` and keep it.
 */
export class LocalHistogram<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  /** The series of one label set, created on first use; keep it to observe without a lookup. */
  labels(labels: Readonly<Record<L, string | number>>): HistogramSeries {
    const key = this.labelNames.map((name) => String(labels[name])).join('\u0000');
    let series = this.series.get(key);
    if (!series) {
      const own: Record<string, string | number> = {};
      for (const name of this.labelNames) own[name] = labels[name];
      series = new Series(this.bounds, own);
      this.series.set(key, series);
    }
    return series;
  }

  observe(labels: Readonly<Record<L, string | number>>, value: number): void {
    this.labels(labels).observe(value);
  }

  reset(): void {
    this.series.clear();
  }

  /** prom-client's metric shape: what its registry formats for `/metrics`. */
  async get(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: { metricName: string; labels: Record<string, string | number>; value: number }[];
  }> {
    const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
    for (const series of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += series.counts[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...series.labels, le: this.bounds[i]! }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_bucket`, labels: { ...series.labels, le: '+Inf' }, value: series.count });
      values.push({ metricName: `${this.name}_sum`, labels: { ...series.labels }, value: series.sum });
      values.push({ metricName: `${this.name}_count`, labels: { ...series.labels }, value: series.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
