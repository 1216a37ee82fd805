import { X509Certificate, createHash } from 'node:crypto';
import { endpointKey, type Endpoint, type Health } from '../../registry/index.js';
import type { PeerState } from '../../federation/index.js';
import type { GatewayCondition } from '../dataplane/gateway-state.js';
import type { Gateway } from '../gateway.js';

/** The JSON status document served at GET /v1/status (docs/operations.md describes it). */
export function buildStatus(gateway: Gateway): Record<string, unknown> {
  const { config } = gateway;
  const svid = gateway.svid.current();
  return {
    cluster: config.cluster,
    trustDomain: config.trustDomain,
    gateway: {
      name: config.gatewayName,
      identity: gateway.identity,
      locality: { ...config.locality, cluster: config.cluster },
      svidNotAfter: svid.notAfter.toISOString(),
      ready: gateway.isReady(),
    },
    listeners: gateway.listeners,
    // The policy set in force and the last refusal (its errors in full at GET /v1/policies).
    policies: policySummary(gateway),
    // Each registry source: synced or not (a source whose API is down leaves the restored catalog in place), last error.
    sources: gateway.sources.status().map(({ name, kind, synced, lastSyncAtMs, lastError, services }) => ({
      name, kind, synced, services, lastError,
      lastSync: lastSyncAtMs === undefined ? undefined : new Date(lastSyncAtMs).toISOString(),
    })),
    peers: gateway.peers.list(),
    // Peerings made from bootstrap credentials (config peering.peers): pending with the last
    // error, done, or failed for good and why; and whether credentials presented to us are accepted.
    bootstrap: { acceptsCredentials: gateway.peers.acceptsBootstrap(), peerings: gateway.bootstrap.status() },
    // Trust material read from the API server: the CA Secret followed for renewals (a refused
    // renewal and why), the service-account JWKS (its keys, the last failed read).
    trust: gateway.trustSources(),
    bundles: buildBundles(gateway),
    services: buildServices(gateway),
    eastWest: { stats: gateway.eastWest.stats(), recentConnections: gateway.eastWest.recentConnections() },
    outbound: {
      // Outlier detection per (remote gateway, service port): ejected, probing, or failing.
      ejectedGateways: gateway.outliers.snapshot(),
      // Every remote gateway the catalog knows, with what the transport and the links say of it.
      gateways: gateway.liveness.snapshot(gateway.catalog.gateways()),
      recentRequests: gateway.requests.list(),
      // The fixed local forward ports (outbound.forward, published services' ports): bound address, service, open connections.
      forwards: gateway.forwards.list(),
    },
  };
}

function policySummary(gateway: Gateway): Record<string, unknown> {
  const { version, appliedAt, documents, directory, lastRefusal } = gateway.policies.status();
  return {
    version, appliedAt, documents, directory,
    lastRefusal: lastRefusal === undefined ? undefined : { at: lastRefusal.at, source: lastRefusal.source, errors: lastRefusal.errors.length, first: lastRefusal.errors[0] },
  };
}

export function buildBundles(gateway: Gateway): Array<Record<string, unknown>> {
  return gateway.trust.trustDomains().sort().map((trustDomain) => {
    const bundle = gateway.trust.get(trustDomain);
    return {
      trustDomain,
      local: trustDomain === gateway.config.trustDomain,
      peer: gateway.peers.list().find((p) => p.trustDomain === trustDomain)?.name,
      sequence: bundle?.sequence,
      refreshHintSeconds: bundle?.refreshHintSeconds,
      roots: (bundle?.rootsPem ?? []).map((pem) => {
        const cert = new X509Certificate(pem);
        return {
          subject: cert.subject.replace(/\n/g, ', '), notAfter: new Date(cert.validTo).toISOString(),
          fingerprint: createHash('sha256').update(cert.raw).digest('hex'),
        };
      }),
    };
  });
}

/** Whether traffic from here can get to a cluster's endpoints, as far as this gateway knows. */
export type Reachability = 'local' | 'reachable' | 'unreachable' | 'ejected';

/**
 * How a cluster stands from here: a remote cluster whose peer link is down, or whose every
 * gateway is dead (no PING answer, cannot be dialed), is `unreachable` (its endpoints' health
 * is the last the link carried, so it must not be shown as live); one whose every gateway is
 * dead or ejected by outlier detection for the service is `ejected`. A cluster known without
 * a direct peer link (learned through another peer) is judged by its gateways alone.
 */
export function reachabilityOf(
  local: boolean, link: PeerState | undefined, gateways: ReadonlyArray<{ ejected: boolean; condition?: GatewayCondition }>,
): Reachability {
  if (local) return 'local';
  if ((link !== undefined && link !== 'connected') || gateways.length === 0) return 'unreachable';
  if (gateways.every((g) => g.condition === 'dead')) return 'unreachable';
  return gateways.every((g) => g.ejected || g.condition === 'dead') ? 'ejected' : 'reachable';
}

/** An endpoint's state for display: its own health, unless its cluster cannot be reached. */
export function endpointState(health: Health, reachability: Reachability): Health | 'unreachable' | 'ejected' {
  return reachability === 'unreachable' || reachability === 'ejected' ? reachability : health;
}

/** A local endpoint's active health checks (absent when its service has none). */
function activeCheckOf(gateway: Gateway, key: string, endpoint: Endpoint): Record<string, unknown> | undefined {
  const status = gateway.healthChecks.endpointStatus(key, endpointKey(endpoint));
  if (status === undefined) return undefined;
  const { endpoint: _id, address: _address, ...check } = status;
  return check;
}

/** Every live service with its endpoints grouped by cluster, local cluster first. */
export function buildServices(gateway: Gateway): Array<Record<string, unknown>> {
  const { catalog, outliers, liveness } = gateway;
  const links = new Map(gateway.peers.list().map((p) => [p.cluster, p.state]));
  return catalog.serviceKeys().map((key) => {
    const service = catalog.resolve(key);
    const clusters: Record<string, unknown> = {};
    for (const [cluster, endpoints] of service?.clusters ?? []) {
      const local = cluster === catalog.localCluster;
      const gateways = catalog.gatewaysOf(cluster).map((g) => {
        const state = liveness.stateOf(g);
        return {
          identity: g.identity, eastWestAddress: g.eastWestAddress,
          // Ejected for any port of this service (outlier detection keys gateway and service port).
          ejected: (service?.ports ?? []).some((p) => outliers.ejection(g, key, p.port) !== undefined),
          condition: state.condition, reason: state.reason, changedAtMs: state.changedAtMs,
        };
      });
      const link = links.get(cluster);
      const reachability = reachabilityOf(local, link, gateways);
      clusters[cluster] = {
        local,
        exported: catalog.get(cluster, key)?.exported ?? false,
        // The peers a local service goes to (absent: every peer); never known of a remote one.
        exportTo: local ? catalog.get(cluster, key)?.exportTo : undefined,
        version: catalog.get(cluster, key)?.version,
        gateways: local ? undefined : gateways,
        link: local ? undefined : link ?? 'none',
        reachability,
        endpoints: endpoints.map((e) => ({
          address: e.address, ports: e.ports, kind: e.kind, identity: e.identity, health: e.health,
          state: endpointState(e.health, reachability), weight: e.weight, locality: e.locality, labels: e.labels,
          check: local ? activeCheckOf(gateway, key, e) : undefined,
        })),
      };
    }
    return { key, ports: service?.ports ?? [], clusters };
  });
}

/**
 * One message of the live feed (/v1/live): GET /v1/status without its services, which come
 * beside it as GET /v1/services has them, and GET /v1/traffic.
 */
export function buildLiveUpdate(gateway: Gateway): Record<string, unknown> {
  const { services, ...status } = buildStatus(gateway);
  return { type: 'update', status, services, traffic: gateway.traffic.snapshot() };
}
