import { createRequire } from 'node:module';

/** One family as parse-prometheus-text-format gives it (prom2json's shape). */
export interface MetricFamily {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: Array<{ value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; count?: string; sum?: string }>;
}

// The package ships CommonJS with no types; it is a port of the Prometheus Python client's parser.
const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => MetricFamily[];

/** An exposition parsed by a Prometheus text-format parser, with lookups for tests. */
export class Exposition {
  readonly families: Map<string, MetricFamily>;

  constructor(readonly text: string) {
    this.families = new Map(parse(text).map((f) => [f.name, f]));
  }

  static async fetch(adminAddress: string): Promise<Exposition> {
    const response = await fetch(`http://${adminAddress}/metrics`, { signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
    return new Exposition(await response.text());
  }

  family(name: string): MetricFamily {
    const family = this.families.get(name);
    if (family === undefined) throw new Error(`no metric family ${name} in the exposition`);
    return family;
  }

  /** The samples of `name` whose labels include `match`. */
  samples(name: string, match: Record<string, string> = {}): MetricFamily['metrics'] {
    return this.family(name).metrics.filter((m) => Object.entries(match).every(([k, v]) => m.labels?.[k] === v));
  }

  /** The sum of the values of `name` whose labels include `match` (0 when none). */
  sum(name: string, match: Record<string, string> = {}): number {
    return this.samples(name, match).reduce((n, m) => n + Number(m.value ?? m.count ?? 0), 0);
  }
}
