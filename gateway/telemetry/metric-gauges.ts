import { X509Certificate } from 'node:crypto';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { PeerStatus } from '../../federation/index.js';
import type { Gateway } from '../gateway.js';

type Labels = Record<string, string>;

const PEER_STATES: readonly PeerStatus['state'][] = ['connecting', 'connected', 'disconnected', 'removed'];
type Rows = Array<[Labels, number]>;

/**
 * The scraped half of /metrics: gauges read from the components' status when Prometheus asks
 * (link state, staleness, catalog sizes, certificate expiry, policy version, source sync),
 * and the peer links' own counters (NACKs) as counters. Nothing here is kept between scrapes
 * except what prom-client holds for the exposition.
 */
export function registerGauges(registry: Registry, gateway: Gateway): void {
  const peers = (): PeerStatus[] => gateway.peers.list();
  const gauge = (name: string, help: string, labelNames: string[], rows: () => Rows): void => {
    new Gauge({
      name, help, labelNames, registers: [registry],
      collect() {
        this.reset();
        for (const [labels, value] of rows()) this.set(labels, value);
      },
    });
  };
  const counter = (name: string, help: string, labelNames: string[], rows: () => Rows): void => {
    // A total the component keeps: the counter is set to it at each scrape (reset, then inc).
    new Counter({
      name, help, labelNames, registers: [registry],
      collect() {
        this.reset();
        for (const [labels, value] of rows()) this.inc(labels, value);
      },
    });
  };
  const seconds = (ms: number): number => ms / 1000;

  gauge('causeway_gateway_info', 'This gateway: 1, with its identity as labels.', ['cluster', 'trust_domain', 'identity'],
    () => [[{ cluster: gateway.config.cluster, trust_domain: gateway.config.trustDomain, identity: gateway.identity }, 1]]);
  gauge('causeway_gateway_ready', 'Whether the gateway is ready (1) or starting or stopping (0).', [], () => [[{}, gateway.isReady() ? 1 : 0]]);

  // Peer links (design brief: "each gateway can report per-peer convergence lag").
  gauge('causeway_peer_link_up', 'Whether the federation link to each peer is established (1) or not (0).', ['peer', 'cluster'],
    () => peers().map((p) => [{ peer: p.name, cluster: p.cluster }, p.state === 'connected' ? 1 : 0]));
  // One series per state, 1 for the state the link is in: link_up alone cannot tell a peer
  // still being dialled from one that removed the peering on its side.
  gauge('causeway_peer_state', 'The state of the federation link to each peer: 1 for the state it is in (connecting, connected, disconnected, removed), 0 for the others.',
    ['peer', 'cluster', 'state'], () => peers().flatMap((p): Rows => PEER_STATES.map((state) => [{ peer: p.name, cluster: p.cluster, state }, p.state === state ? 1 : 0])));
  gauge('causeway_peer_stale', 'A connected link silent (not even a heartbeat) for two heartbeat intervals: 1.', ['peer', 'cluster'],
    () => peers().map((p) => [{ peer: p.name, cluster: p.cluster }, p.stale ? 1 : 0]));
  gauge('causeway_peer_silence_seconds', 'Time since the last message from each connected peer (staleness).', ['peer', 'cluster'],
    () => peers().filter((p) => p.silentMs !== undefined).map((p) => [{ peer: p.name, cluster: p.cluster }, seconds(p.silentMs ?? 0)]));
  gauge('causeway_peer_unacked_messages', 'Our Bundle/Snapshot/Delta messages on the current link not yet acknowledged.', ['peer'],
    () => peers().map((p) => [{ peer: p.name }, p.unacked]));
  gauge('causeway_peer_ack_round_trip_seconds', 'Send to acknowledgement of our latest message on each link (one clock: no skew).', ['peer'],
    () => peers().filter((p) => p.lastAckLagMs !== undefined).map((p) => [{ peer: p.name }, seconds(p.lastAckLagMs ?? 0)]));
  gauge('causeway_peer_imported_services', "Live services of each peer's cluster in our catalog.", ['peer'],
    () => peers().map((p) => [{ peer: p.name }, p.importedServices]));
  gauge('causeway_peer_exported_services', 'Live services of our cluster exported to each peer.', ['peer'],
    () => peers().map((p) => [{ peer: p.name }, p.exportedServices]));
  counter('causeway_peer_nacks_total', 'Link messages refused whole: ours by the peer (sent), the peer\'s by us (received).', ['peer', 'side'],
    () => peers().flatMap((p): Rows => [[{ peer: p.name, side: 'sent' }, p.nacks], [{ peer: p.name, side: 'received' }, p.rejected]]));
  counter('causeway_peer_deltas_sent_total', 'Deltas sent to each peer.', ['peer'], () => peers().map((p) => [{ peer: p.name }, p.sentDeltas]));

  // The catalog: what this gateway can route to.
  gauge('causeway_catalog_services', 'Live services in the federated catalog, by the cluster that owns them.', ['cluster'], () => {
    const counts = new Map<string, number>();
    for (const key of gateway.catalog.serviceKeys()) {
      for (const cluster of gateway.catalog.resolve(key)?.clusters.keys() ?? []) counts.set(cluster, (counts.get(cluster) ?? 0) + 1);
    }
    return [...counts].map(([cluster, n]) => [{ cluster }, n]);
  });
  gauge('causeway_catalog_endpoints', 'Endpoints in the federated catalog, by cluster and health.', ['cluster', 'health'], () => {
    const counts = new Map<string, number>();
    for (const key of gateway.catalog.serviceKeys()) {
      for (const [cluster, endpoints] of gateway.catalog.resolve(key)?.clusters ?? []) {
        for (const e of endpoints) counts.set(`${cluster}\u0000${e.health}`, (counts.get(`${cluster}\u0000${e.health}`) ?? 0) + 1);
      }
    }
    return [...counts].map(([k, n]) => {
      const [cluster = '', health = ''] = k.split('\u0000');
      return [{ cluster, health }, n];
    });
  });

  // Certificates: this gateway's SVID and the roots of every bundle held.
  gauge('causeway_certificate_expiry_timestamp_seconds', "When this gateway's SVID (kind svid) and the earliest root of each trust bundle held (kind root) expire, as Unix time.",
    ['kind', 'trust_domain'], () => {
      const rows: Rows = [[{ kind: 'svid', trust_domain: gateway.config.trustDomain }, seconds(gateway.svid.current().notAfter.getTime())]];
      for (const trustDomain of gateway.trust.trustDomains()) {
        const expiries = (gateway.trust.get(trustDomain)?.rootsPem ?? []).map((pem) => Date.parse(new X509Certificate(pem).validTo));
        if (expiries.length > 0) rows.push([{ kind: 'root', trust_domain: trustDomain }, seconds(Math.min(...expiries))]);
      }
      return rows;
    });
  gauge('causeway_bundle_sequence', 'spiffe_sequence of each trust bundle held.', ['trust_domain'],
    () => gateway.trust.trustDomains().map((td) => [{ trust_domain: td }, gateway.trust.get(td)?.sequence ?? 0]));

  // Policy.
  gauge('causeway_policy_version', 'Version of the policy set in force (it grows with each set applied).', [], () => [[{}, gateway.policies.status().version]]);
  gauge('causeway_policy_documents', 'Policy documents in the set in force.', [], () => [[{}, gateway.policies.status().documents]]);
  gauge('causeway_policy_last_refusal_timestamp_seconds', 'When a policy set was last refused, as Unix time (0: never since the gateway started).', [], () => {
    const refusal = gateway.policies.status().lastRefusal;
    return refusal === undefined ? [] : [[{}, seconds(Date.parse(refusal.at))]];
  });

  // Registry sources.
  gauge('causeway_source_synced', 'Whether each registry source has completed its first sync (1) or not (0).', ['source', 'kind'],
    () => gateway.sources.status().map((s) => [{ source: s.name, kind: s.kind }, s.synced ? 1 : 0]));
  gauge('causeway_source_services', 'Services each registry source declares.', ['source', 'kind'],
    () => gateway.sources.status().map((s) => [{ source: s.name, kind: s.kind }, s.services]));
  gauge('causeway_source_failing', 'Whether each registry source\'s last attempt failed (1; it keeps trying, the catalog it gave stays) or not (0).', ['source', 'kind'],
    () => gateway.sources.status().map((s) => [{ source: s.name, kind: s.kind }, s.lastError === undefined ? 0 : 1]));
  gauge('causeway_source_last_sync_timestamp_seconds', 'When each registry source last pushed a sync or a change, as Unix time.', ['source', 'kind'],
    () => gateway.sources.status().filter((s) => s.lastSyncAtMs !== undefined).map((s) => [{ source: s.name, kind: s.kind }, seconds(s.lastSyncAtMs ?? 0)]));
  gauge('causeway_agents', 'VM and bare-metal agents, by state (connected, within their lease, expired).', ['state'], () => {
    const counts = new Map<string, number>();
    for (const a of gateway.agents.status()) counts.set(a.state, (counts.get(a.state) ?? 0) + 1);
    return [...counts].map(([state, n]) => [{ state }, n]);
  });

  // Data plane.
  gauge('causeway_eastwest_sessions', 'HTTP/2 sessions open at the east-west listener (calling gateways and workloads).', [],
    () => [[{}, gateway.eastWest.stats().sessions]]);
  gauge('causeway_active_tunnels', 'Tunnels open now: inbound, east-west streams carrying a TCP tunnel or pooled HTTP/1.1; outbound, CONNECT tunnels and forward-port connections of local callers.', ['direction'],
    () => [[{ direction: 'inbound' }, gateway.eastWest.stats().activeTunnels], [{ direction: 'outbound' }, gateway.metrics.openOutboundTunnels]]);
  gauge('causeway_tunnel_sessions', 'Sessions this gateway holds to remote gateways (shared by every caller).', [],
    () => [[{}, gateway.tunnels.stats().sessions]]);
  gauge('causeway_outlier_ejected', 'Remote (gateway, service port) pairs out of rotation now: ejected, or waiting for a probe.', ['condition'], () => {
    const counts = new Map<string, number>([['ejected', 0], ['probing', 0]]);
    for (const o of gateway.outliers.snapshot()) if (o.condition !== 'ok') counts.set(o.condition, (counts.get(o.condition) ?? 0) + 1);
    return [...counts].map(([condition, n]) => [{ condition }, n]);
  });
  gauge('causeway_remote_gateway_up', 'Each remote gateway the catalog knows: 1 up, 0 dead or its link down.', ['cluster', 'gateway'],
    () => gateway.liveness.snapshot(gateway.catalog.gateways()).map((g) => [{ cluster: g.cluster, gateway: g.gateway }, g.condition === 'up' ? 1 : 0]));
}
