import type { CatalogReader } from '../registry/index.js';
import { isGatewayIdentity, parseSpiffeId, type PeerIdentity } from '../federation/index.js';

/**
 * Who is calling, by source address (design brief, outbound identity option 3): the
 * caller's address matched against the LOCAL cluster's endpoints. Off by default — it is
 * only sound where the pod network is trusted. An address shared by endpoints with
 * different identities says nothing, so the caller stays anonymous.
 */
export function identityBySourceAddress(catalog: CatalogReader): (address: string) => string | undefined {
  return (address) => {
    const normalised = address.startsWith('::ffff:') ? address.slice(7) : address;
    let found: string | undefined;
    for (const record of catalog.recordsOf(catalog.localCluster)) {
      if (record.deleted) continue;
      for (const endpoint of record.endpoints) {
        if (endpoint.address !== normalised) continue;
        if (found !== undefined && found !== endpoint.identity) return undefined;
        found = endpoint.identity;
      }
    }
    return found;
  };
}

/**
 * Who may be a caller by client certificate at the outbound listener (design brief, outbound
 * identity option 1), once the chain is verified (verifyPeerChain, the rules of every mTLS
 * listener): a workload of this gateway's own trust domain. Returns why not, or undefined.
 *
 * - Another trust domain: this gateway speaks for the caller toward other clusters, and a
 *   gateway may assert `causeway-source` only inside its own trust domain, so a peer would
 *   refuse the assertion anyway; a federated domain's workloads call through their own
 *   gateway.
 * - A gateway identity: gateways speak for workloads and are never callers themselves; a
 *   gateway's key used as a workload would let policy written for gateways decide a call.
 */
export function workloadCallerRefusal(peer: PeerIdentity, localTrustDomain: string): string | undefined {
  if (peer.trustDomain !== localTrustDomain) {
    return `${peer.spiffeId} is of trust domain ${peer.trustDomain}; the outbound listener takes SVIDs of this gateway's own trust domain ${localTrustDomain} only`;
  }
  if (isGatewayIdentity(parseSpiffeId(peer.spiffeId))) {
    return `${peer.spiffeId} is a gateway identity; a gateway is never a caller at the outbound listener, only workloads are`;
  }
  return undefined;
}
