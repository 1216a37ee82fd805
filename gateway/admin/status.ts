import { X509Certificate, createHash } from 'node:crypto';
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
    peers: gateway.peers.list(),
    bundles: buildBundles(gateway),
    services: buildServices(gateway),
    eastWest: { stats: gateway.eastWest.stats(), recentConnections: gateway.eastWest.recentConnections() },
    outbound: { ejectedGateways: gateway.outliers.snapshot(), recentRequests: gateway.requests.list() },
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

/** Every live service with its endpoints grouped by cluster, local cluster first. */
export function buildServices(gateway: Gateway): Array<Record<string, unknown>> {
  const { catalog } = gateway;
  return catalog.serviceKeys().map((key) => {
    const service = catalog.resolve(key);
    const clusters: Record<string, unknown> = {};
    for (const [cluster, endpoints] of service?.clusters ?? []) {
      const gateways = catalog.gatewaysOf(cluster).map((g) => ({ identity: g.identity, eastWestAddress: g.eastWestAddress }));
      clusters[cluster] = {
        local: cluster === catalog.localCluster,
        exported: catalog.get(cluster, key)?.exported ?? false,
        version: catalog.get(cluster, key)?.version,
        gateways: cluster === catalog.localCluster ? undefined : gateways,
        endpoints: endpoints.map((e) => ({
          address: e.address, ports: e.ports, kind: e.kind, identity: e.identity, health: e.health, weight: e.weight,
          locality: e.locality, labels: e.labels,
        })),
      };
    }
    return { key, ports: service?.ports ?? [], clusters };
  });
}
