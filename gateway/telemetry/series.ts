import { Counter, type Metric, type Registry } from 'prom-client';

type Labels = Record<string, string>;

/**
 * Counters and histograms for the request path, kept per series in a Map keyed by their label
 * values and handed to prom-client's registry when it is scraped. prom-client's own `inc` and
 * `observe` validate and hash the label object on every call: 8 µs for the six updates of one
 * request, measured, against about 1 µs this way — on a data plane that spends some 40 µs of
 * CPU per request. prom-client still owns the registry and the exposition format.
 */
function labelsOf(names: readonly string[], values: readonly string[]): Labels {
  const labels: Labels = {};
  names.forEach((name, i) => { labels[name] = values[i] ?? ''; });
  return labels;
}

export interface SeriesConfig {
  registry: Registry;
  name: string;
  help: string;
  labelNames: readonly string[];
}

export class SeriesCounter {
  private readonly series = new Map<string, { labels: Labels; value: number }>();

  constructor(private readonly config: SeriesConfig) {
    const { series } = this;
    new Counter({
      name: config.name, help: config.help, labelNames: config.labelNames, registers: [config.registry],
      collect() {
        this.reset();
        for (const s of series.values()) this.inc(s.labels, s.value);
      },
    });
  }

  /** `values` in the order of labelNames. */
  inc(values: readonly string[], by = 1): void {
    const key = values.join('\u0000');
    const found = this.series.get(key);
    if (found !== undefined) found.value += by;
    else this.series.set(key, { labels: labelsOf(this.config.labelNames, values), value: by });
  }
}

interface HistogramSeries {
  labels: Labels;
  /** Per bucket, not cumulative (the exposition accumulates). */
  counts: number[];
  sum: number;
  count: number;
}

/** A histogram (Prometheus text format: cumulative `_bucket{le}`, `_sum`, `_count`) with fixed upper bounds. */
export class SeriesHistogram {
  private readonly series = new Map<string, HistogramSeries>();

  constructor(private readonly config: SeriesConfig & { buckets: readonly number[] }) {
    // The shape prom-client's registry reads of every metric (its own Histogram's `get`).
    const metric = {
      name: config.name, help: config.help, type: 'histogram', aggregator: 'sum',
      get: async () => ({ name: config.name, help: config.help, type: 'histogram', aggregator: 'sum', values: this.values() }),
      reset: () => this.series.clear(),
    };
    config.registry.registerMetric(metric as unknown as Metric);
  }

  observe(values: readonly string[], value: number): void {
    const key = values.join('\u0000');
    let s = this.series.get(key);
    if (s === undefined) {
      s = { labels: labelsOf(this.config.labelNames, values), counts: new Array<number>(this.config.buckets.length).fill(0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    const { buckets } = this.config;
    let i = 0;
    while (i < buckets.length && value > (buckets[i] ?? Infinity)) i += 1;
    if (i < buckets.length) s.counts[i] = (s.counts[i] ?? 0) + 1;
    s.sum += value;
    s.count += 1;
  }

  private values(): Array<{ metricName: string; labels: Labels; value: number }> {
    const out: Array<{ metricName: string; labels: Labels; value: number }> = [];
    const { name, buckets } = this.config;
    for (const s of this.series.values()) {
      let cumulative = 0;
      buckets.forEach((bound, i) => {
        cumulative += s.counts[i] ?? 0;
        out.push({ metricName: `${name}_bucket`, labels: { le: String(bound), ...s.labels }, value: cumulative });
      });
      out.push({ metricName: `${name}_bucket`, labels: { le: '+Inf', ...s.labels }, value: s.count });
      out.push({ metricName: `${name}_sum`, labels: s.labels, value: s.sum });
      out.push({ metricName: `${name}_count`, labels: s.labels, value: s.count });
    }
    return out;
  }
}
