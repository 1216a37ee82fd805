import { Registry, collectDefaultMetrics } from 'prom-client';
import { SeriesCounter, SeriesHistogram } from './series.js';
import { BoundedLabel, identityLabel } from './bounded-label.js';
import { isUnknownTarget, outcomeOf } from './outcome.js';
import type { InboundRequestEvent, OutboundRequestEvent, TelemetryEvent, TunnelClosedEvent } from './events.js';
import type { PeerEvent } from '../../federation/index.js';

export interface MetricsOptions {
  localCluster: string;
  /** The cluster of a calling gateway, by its SPIFFE ID. */
  clusterOfGateway: (identity: string) => string | undefined;
  /** Distinct source identities given their own series; the rest are `other`. */
  maxSourceIdentities: number;
  /** Distinct destination services given their own series; the rest are `other`. */
  maxServices: number;
  /** Node.js process metrics (process_*, nodejs_*); off for the gateways of one test process after the first. */
  processMetrics: boolean;
}

/** Request durations: 1 ms to 10 s (the data plane's range, timeouts included). */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Replication lag: a healthy link is tens of ms; seconds mean a stall. */
const LAG_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

const TRAFFIC_LABELS = ['direction', 'source_identity', 'source_cluster', 'destination_service', 'destination_cluster'] as const;

/**
 * The event-driven half of /metrics: counters and histograms fed by the telemetry bus. Names,
 * units and suffixes follow the Prometheus conventions (`_total`, `_seconds`, `_bytes`);
 * every label is bounded (docs/observability.md lists each metric and its cardinality).
 * Gauges read when scraped are in metric-gauges.ts, on the same registry.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly identities: BoundedLabel;
  private readonly services: BoundedLabel;
  private readonly requests: SeriesCounter;
  private readonly requestDuration: SeriesHistogram;
  private readonly connections: SeriesCounter;
  private readonly sentBytes: SeriesCounter;
  private readonly receivedBytes: SeriesCounter;
  private readonly denials: SeriesCounter;
  private readonly failovers: SeriesCounter;
  private readonly retries: SeriesCounter;
  private readonly ejections: SeriesCounter;
  private readonly replicationLag: SeriesHistogram;
  private readonly peerRecords: SeriesCounter;
  private readonly linkTransitions: SeriesCounter;
  private readonly policyRefusals: SeriesCounter;
  private readonly sourceUpdates: SeriesCounter;
  private readonly sourceErrors: SeriesCounter;
  private readonly caChanges: SeriesCounter;
  private readonly svidRenewals: SeriesCounter;
  private outboundTunnels = 0;

  constructor(private readonly options: MetricsOptions) {
    this.identities = new BoundedLabel(options.maxSourceIdentities);
    this.services = new BoundedLabel(options.maxServices);
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
    this.requests = new SeriesCounter({
      name: 'causeway_requests_total', registry: this.registry,
      help: 'HTTP requests and gRPC calls answered or refused, by caller, destination and outcome; code is the HTTP status (0: no answer).',
      labelNames: [...TRAFFIC_LABELS, 'code', 'outcome'],
    });
    this.requestDuration = new SeriesHistogram({
      name: 'causeway_request_duration_seconds', registry: this.registry, buckets: DURATION_BUCKETS,
      help: 'Time from a request arriving to its answer finishing (a tunnel: to its opening), by destination and outcome.',
      labelNames: ['direction', 'destination_service', 'destination_cluster', 'outcome'],
    });
    this.connections = new SeriesCounter({
      name: 'causeway_connections_total', registry: this.registry,
      help: 'TCP tunnels (CONNECT, forward ports) opened or refused, by caller, destination and outcome.',
      labelNames: [...TRAFFIC_LABELS, 'outcome'],
    });
    this.sentBytes = new SeriesCounter({
      name: 'causeway_sent_bytes_total', registry: this.registry,
      help: 'Bytes from callers toward services (HTTP heads and bodies; tunnel payload when it closes).',
      labelNames: ['direction', 'destination_service', 'protocol'],
    });
    this.receivedBytes = new SeriesCounter({
      name: 'causeway_received_bytes_total', registry: this.registry,
      help: 'Bytes from services back to callers (HTTP heads and bodies; tunnel payload when it closes).',
      labelNames: ['direction', 'destination_service', 'protocol'],
    });
    this.denials = new SeriesCounter({
      name: 'causeway_access_denials_total', registry: this.registry,
      help: 'Requests and tunnels refused by access policy at this gateway, the one that decides for its own endpoints, by the rule that decided (default: no rule allowed it).',
      labelNames: ['rule', 'destination_service'],
    });
    this.failovers = new SeriesCounter({
      name: 'causeway_failovers_total', registry: this.registry,
      help: 'Requests served by a cluster after the first one their decision ranked, by the cluster that served them.',
      labelNames: ['destination_service', 'destination_cluster'],
    });
    this.retries = new SeriesCounter({
      name: 'causeway_retries_total', registry: this.registry,
      help: 'Tries after the first (FailoverPolicy retries), by destination service.',
      labelNames: ['destination_service'],
    });
    this.ejections = new SeriesCounter({
      name: 'causeway_outlier_ejections_total', registry: this.registry,
      help: 'Remote gateways taken out of rotation by outlier detection, by their cluster and the service.',
      labelNames: ['destination_cluster', 'destination_service'],
    });
    this.replicationLag = new SeriesHistogram({
      name: 'causeway_replication_lag_seconds', registry: this.registry, buckets: LAG_BUCKETS,
      help: "A peer's catalog write to its Delta applied here (across two clocks: includes their skew).",
      labelNames: ['peer'],
    });
    this.peerRecords = new SeriesCounter({
      name: 'causeway_peer_messages_received_total', registry: this.registry,
      help: 'Snapshots and Deltas received from each peer, accepted (ACK) or rejected whole (NACK).',
      labelNames: ['peer', 'kind', 'result'],
    });
    this.linkTransitions = new SeriesCounter({
      name: 'causeway_peer_link_changes_total', registry: this.registry,
      help: "Changes of each peer link's state, by the state entered.",
      labelNames: ['peer', 'state'],
    });
    this.policyRefusals = new SeriesCounter({
      name: 'causeway_policy_refusals_total', registry: this.registry,
      help: 'Policy sets refused whole (the set in force stays), by where they came from.',
      labelNames: ['source'],
    });
    this.sourceUpdates = new SeriesCounter({
      name: 'causeway_source_updates_total', registry: this.registry,
      help: 'Pushes of each registry source into the catalog: a sync, or one service declared, changed or removed.',
      labelNames: ['source', 'kind'],
    });
    this.sourceErrors = new SeriesCounter({
      name: 'causeway_source_errors_total', registry: this.registry,
      help: 'Failures reported by each registry source: a start that gave up (it stays unsynced) or a failed attempt; causeway_source_failing shows sources failing now.',
      labelNames: ['source', 'kind'],
    });
    this.caChanges = new SeriesCounter({
      name: 'causeway_ca_changes_total', registry: this.registry,
      help: "Changes of this trust domain's CA: its published roots (bundle) or the authority that signs (activated).",
      labelNames: ['change'],
    });
    this.svidRenewals = new SeriesCounter({
      name: 'causeway_svid_renewals_total', registry: this.registry,
      help: "Renewals of this gateway's own SVID, and renewals the CA could not serve (retried; the current SVID stays).",
      labelNames: ['result'],
    });
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
      case 'tunnel.closed':
        this.tunnelClosed(event);
        return;
      case 'outlier.ejected':
        this.ejections.inc([event.cluster, this.service(event.service)]);
        return;
      case 'policy.refused':
        this.policyRefusals.inc([event.source]);
        return;
      case 'policy.applied':
        return;
      case 'source.update':
        this.sourceUpdates.inc([event.source, event.kind]);
        return;
      case 'source.error':
        this.sourceErrors.inc([event.source, event.kind]);
        return;
      case 'source.synced':
        return;
      case 'ca.changed':
        this.caChanges.inc([event.change]);
        return;
      case 'svid.rotated':
        this.svidRenewals.inc(['renewed']);
        return;
      case 'svid.renewal-failed':
        this.svidRenewals.inc(['failed']);
        return;
      default:
        this.peer(event);
    }
  };

  /** The exposition, in the Prometheus text format (version 0.0.4). */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** Outbound tunnels open now (CONNECT and forward ports): opened minus closed. */
  get openOutboundTunnels(): number {
    return this.outboundTunnels;
  }

  /** `anonymous` is a fixed value, outside the cap: a full cap must not hide anonymous callers. */
  private identity(source: string): string {
    const label = identityLabel(source);
    return label === 'anonymous' ? label : this.identities.value(label);
  }

  private service(name: string, code?: string): string {
    return isUnknownTarget(code) || name === '' ? 'unknown' : this.services.value(name);
  }

  private outbound({ record }: OutboundRequestEvent): void {
    // A CONNECT that carries HTTP inside is counted by its requests, not as a tunnel.
    const tunnel = record.method === 'CONNECT';
    if (tunnel && (record.route ?? '').includes(' inside ')) return;
    const outcome = outcomeOf(record.status, record.code);
    const destination = this.service(record.service, record.code);
    const cluster = record.cluster ?? 'none';
    // Label values in the order of TRAFFIC_LABELS.
    const source = this.identity(record.source);
    if (tunnel && record.status === 200) this.outboundTunnels += 1;
    if (tunnel) this.connections.inc(['outbound', source, this.options.localCluster, destination, cluster, outcome]);
    else this.requests.inc(['outbound', source, this.options.localCluster, destination, cluster, String(record.status), outcome]);
    this.requestDuration.observe(['outbound', destination, cluster, outcome], record.durationMs / 1000);
    if (record.failover === true && record.cluster !== undefined) this.failovers.inc([destination, cluster]);
    if (record.retries !== undefined && record.retries > 0) this.retries.inc([destination], record.retries);
    if (record.requestBytes !== undefined) this.sentBytes.inc(['outbound', destination, 'http'], record.requestBytes);
    if (record.responseBytes !== undefined) this.receivedBytes.inc(['outbound', destination, 'http'], record.responseBytes);
  }

  private inbound(event: InboundRequestEvent): void {
    const outcome = outcomeOf(event.status, event.code);
    const destination = this.service(event.service, event.code);
    const local = this.options.localCluster;
    const source = this.identity(event.source);
    const from = this.options.clusterOfGateway(event.peer) ?? 'unknown';
    if (event.kind === 'tcp') this.connections.inc(['inbound', source, from, destination, local, outcome]);
    else this.requests.inc(['inbound', source, from, destination, local, String(event.status), outcome]);
    this.requestDuration.observe(['inbound', destination, local, outcome], event.durationMs / 1000);
    if (outcome === 'denied') this.denials.inc([event.rule ?? 'default', destination]);
    if (event.requestBytes !== undefined) this.sentBytes.inc(['inbound', destination, 'http'], event.requestBytes);
    if (event.responseBytes !== undefined) this.receivedBytes.inc(['inbound', destination, 'http'], event.responseBytes);
  }

  private tunnelClosed(event: TunnelClosedEvent): void {
    if (event.direction === 'outbound') this.outboundTunnels = Math.max(0, this.outboundTunnels - 1);
    const labels = [event.direction, this.service(event.service), 'tcp'];
    this.sentBytes.inc(labels, event.bytesSent);
    this.receivedBytes.inc(labels, event.bytesReceived);
  }

  private peer(event: PeerEvent): void {
    if (event.type === 'peer.link') {
      this.linkTransitions.inc([event.peer, event.state]);
      return;
    }
    this.peerRecords.inc([event.peer, event.kind, event.accepted ? 'accepted' : 'rejected']);
    if (event.lagMs !== undefined) this.replicationLag.observe([event.peer], event.lagMs / 1000);
  }
}
