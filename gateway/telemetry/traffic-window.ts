import { isUnknownTarget, outcomeOf } from './outcome.js';
import type { InboundRequestEvent, OutboundRequestEvent, TelemetryEvent } from './events.js';

/** One direction of traffic between two clusters for one service, over the window. */
export interface TrafficEdge {
  direction: 'outbound' | 'inbound';
  /** The calling cluster (outbound: this one). */
  from: string;
  /** The serving cluster (inbound: this one); "none" when nothing was reached. */
  to: string;
  service: string;
  /** Requests and tunnel openings per second, over the window. */
  rps: number;
  /** Requests that did not end in an error (a 5xx or no answer: outcome.ts) over all; denials and other 4xx are not errors (null: none in the window). */
  successRate: number | null;
  /** 99th percentile of the durations in the window, in ms (null: none). */
  p99Ms: number | null;
  requests: number;
  errors: number;
}

/** Something an operator looks for first: a failover, a denial, an ejection. */
export interface NotableEvent {
  at: string;
  kind: 'failover' | 'denial' | 'ejection';
  service: string;
  cluster?: string;
  source?: string;
  /** The same event again within the dedupe interval adds here instead of a new line. */
  count: number;
  message: string;
}

export interface TrafficSnapshot {
  at: string;
  windowSeconds: number;
  edges: TrafficEdge[];
  /** Since the gateway started. */
  totals: { requests: number; errors: number; denials: number; failovers: number };
  /** Newest first. */
  recent: NotableEvent[];
}

export interface TrafficWindowOptions {
  localCluster: string;
  /** The cluster of a calling gateway, by its SPIFFE ID (the catalog's gateways). */
  clusterOfGateway: (identity: string) => string | undefined;
  /** Default 10 s of one-second buckets. */
  windowSeconds?: number;
  /** Notable events kept; default 50. */
  recentLimit?: number;
  now?: () => number;
}

/** Durations kept per edge and second for the percentile; beyond it, a uniform sample. */
const SAMPLES_PER_BUCKET = 256;
/** The same failover or denial within this long is counted on the line already shown. */
const DEDUPE_MS = 5_000;

interface Bucket {
  second: number;
  requests: number;
  errors: number;
  durations: number[];
}

interface Edge {
  direction: TrafficEdge['direction'];
  from: string;
  to: string;
  service: string;
  buckets: Bucket[];
}

/**
 * Live traffic per edge for the dashboard, `causeway top` and status: a ring of one-second
 * buckets per (direction, from, to, service), fed by the telemetry bus. Reading it never
 * touches the data plane; an edge idle for a whole window is dropped, so its memory is bounded
 * by the edges active in the last window.
 */
export class TrafficWindow {
  private readonly options: Required<Omit<TrafficWindowOptions, 'clusterOfGateway' | 'localCluster'>> & Pick<TrafficWindowOptions, 'clusterOfGateway' | 'localCluster'>;
  private readonly edges = new Map<string, Edge>();
  private readonly recent: NotableEvent[] = [];
  private readonly totals = { requests: 0, errors: 0, denials: 0, failovers: 0 };

  constructor(options: TrafficWindowOptions) {
    this.options = { windowSeconds: 10, recentLimit: 50, now: Date.now, ...options };
  }

  /** The bus subscriber. */
  readonly observe = (event: TelemetryEvent): void => {
    switch (event.type) {
      case 'request':
        this.outbound(event);
        return;
      case 'inbound':
        this.inbound(event);
        return;
      case 'outlier.ejected':
        this.note({
          at: event.at, kind: 'ejection', service: `${event.service}:${event.port}`, cluster: event.cluster,
          message: `gateway ${event.gateway} ejected (${event.reason}; ejection ${event.ejections})`,
        });
        return;
      default:
    }
  };

  snapshot(): TrafficSnapshot {
    const now = this.options.now();
    const second = Math.floor(now / 1000);
    const { windowSeconds } = this.options;
    const edges: TrafficEdge[] = [];
    for (const [key, edge] of this.edges) {
      const live = edge.buckets.filter((b) => b.second > second - windowSeconds);
      if (live.length === 0) {
        this.edges.delete(key);
        continue;
      }
      const requests = live.reduce((n, b) => n + b.requests, 0);
      const errors = live.reduce((n, b) => n + b.errors, 0);
      edges.push({
        direction: edge.direction, from: edge.from, to: edge.to, service: edge.service,
        rps: round(requests / windowSeconds), successRate: requests === 0 ? null : round((requests - errors) / requests),
        p99Ms: percentile(live.flatMap((b) => b.durations), 0.99), requests, errors,
      });
    }
    edges.sort((a, b) => b.requests - a.requests || a.service.localeCompare(b.service));
    return { at: new Date(now).toISOString(), windowSeconds, edges, totals: { ...this.totals }, recent: [...this.recent] };
  }

  private outbound({ record }: OutboundRequestEvent): void {
    const outcome = outcomeOf(record.status, record.code);
    // A name the caller made up is not an edge of its own: the window's memory stays bounded by real services.
    const service = isUnknownTarget(record.code) ? 'unknown' : record.service;
    this.count('outbound', this.options.localCluster, record.cluster ?? 'none', service, outcome === 'error', record.durationMs);
    if (outcome === 'denied') {
      this.totals.denials += 1;
      this.note({ at: record.at, kind: 'denial', service: `${record.service}:${record.port}`, source: record.source, count: 1, message: `${record.source} denied` });
    }
    if (record.failover === true && record.cluster !== undefined) {
      this.totals.failovers += 1;
      this.note({ at: record.at, kind: 'failover', service: `${record.service}:${record.port}`, cluster: record.cluster, message: `served by ${record.cluster}` });
    }
  }

  private inbound(event: InboundRequestEvent): void {
    const from = this.options.clusterOfGateway(event.peer) ?? event.peer;
    const outcome = outcomeOf(event.status, event.code);
    const service = isUnknownTarget(event.code) ? 'unknown' : event.service;
    this.count('inbound', from, this.options.localCluster, service, outcome === 'error', event.durationMs);
    if (outcome === 'denied') {
      this.totals.denials += 1;
      this.note({
        at: event.at, kind: 'denial', service: `${event.service}:${event.port}`, source: event.source, cluster: from,
        message: `${event.source} via ${from} denied by ${event.rule ?? 'default'}`,
      });
    }
  }

  private count(direction: Edge['direction'], from: string, to: string, service: string, failed: boolean, durationMs: number): void {
    this.totals.requests += 1;
    if (failed) this.totals.errors += 1;
    const key = `${direction}\u0000${from}\u0000${to}\u0000${service}`;
    let edge = this.edges.get(key);
    if (edge === undefined) {
      edge = { direction, from, to, service, buckets: [] };
      this.edges.set(key, edge);
    }
    const second = Math.floor(this.options.now() / 1000);
    let bucket = edge.buckets.at(-1);
    if (bucket?.second !== second) {
      bucket = { second, requests: 0, errors: 0, durations: [] };
      edge.buckets.push(bucket);
      // Only the window's seconds are kept (plus the one being filled).
      while (edge.buckets.length > this.options.windowSeconds + 1) edge.buckets.shift();
    }
    bucket.requests += 1;
    if (failed) bucket.errors += 1;
    // Reservoir sampling (Vitter's algorithm R): every duration of the second equally likely kept.
    if (bucket.durations.length < SAMPLES_PER_BUCKET) bucket.durations.push(durationMs);
    else {
      const slot = Math.floor(Math.random() * bucket.requests);
      if (slot < SAMPLES_PER_BUCKET) bucket.durations[slot] = durationMs;
    }
  }

  private note(event: Omit<NotableEvent, 'count'> & { count?: number }): void {
    const at = Date.parse(event.at);
    const same = this.recent.find((e) => e.kind === event.kind && e.service === event.service && e.cluster === event.cluster
      && e.source === event.source && at - Date.parse(e.at) < DEDUPE_MS);
    if (same !== undefined) {
      same.count += 1;
      return;
    }
    this.recent.unshift({ ...event, count: 1 });
    if (this.recent.length > this.options.recentLimit) this.recent.pop();
  }
}

function percentile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  values.sort((a, b) => a - b);
  return round(values[Math.min(values.length - 1, Math.ceil(q * values.length) - 1)] ?? 0);
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
