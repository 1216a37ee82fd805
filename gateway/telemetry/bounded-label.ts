/**
 * A label whose values come from callers (identities, service names) must not grow without
 * bound: every distinct value is a time series in every Prometheus that scrapes us. The first
 * `cap` distinct values are kept as they are; any value after that is `other`, so a flood of
 * new callers costs one series, not one each (docs/observability.md, "Cardinality").
 */
export class BoundedLabel {
  private readonly admitted = new Set<string>();

  constructor(readonly cap: number, private readonly overflow = 'other') {}

  value(raw: string): string {
    if (this.admitted.has(raw)) return raw;
    if (this.admitted.size >= this.cap) return this.overflow;
    this.admitted.add(raw);
    return raw;
  }

  get size(): number {
    return this.admitted.size;
  }
}

/**
 * The source identity label: the SPIFFE ID without its scheme — trust domain and path, which
 * for a Kubernetes or agent workload is `<td>/ns/<ns>/sa/<service account>` (SPIFFE ID spec
 * §2). Anything that is not a SPIFFE ID is `anonymous`.
 */
export function identityLabel(source: string): string {
  return source.startsWith('spiffe://') ? source.slice('spiffe://'.length) : 'anonymous';
}
